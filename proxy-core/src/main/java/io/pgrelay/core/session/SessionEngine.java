package io.pgrelay.core.session;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.pgrelay.core.backend.BackendConnection;
import io.pgrelay.core.backend.BackendListener;
import io.pgrelay.core.backend.BackendStartupException;
import io.pgrelay.core.classify.Route;
import io.pgrelay.core.classify.SessionEffect;
import io.pgrelay.core.classify.StatementFacts;
import io.pgrelay.core.classify.StatementKind;
import io.pgrelay.core.classify.Trait;
import io.pgrelay.core.cluster.NodeStatus;
import io.pgrelay.core.cluster.Role;
import io.pgrelay.core.cluster.Topology;
import io.pgrelay.core.metrics.ProxyMetrics;
import io.pgrelay.core.metrics.UnitTimer;
import io.pgrelay.core.route.PrimaryGate;
import io.pgrelay.protocol.PgProtocolException;
import io.pgrelay.protocol.SqlState;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.backend.ErrorResponse;
import io.pgrelay.protocol.message.backend.ReadyForQuery.TransactionStatus;
import io.pgrelay.protocol.message.frontend.FramePeek;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a logged-in session: routes each request ({@link Router}), waits when it must (for a
 * backend, for the backend still answering earlier requests, for a primary, for a replica's
 * replay position), replays the session's state onto the backend ({@link StateReplay}), sends
 * the request and applies its session effects when the server answered
 * ({@link SessionEffects}). Handles what happens to backends meanwhile: a replica's refusal
 * (run again on the primary), a server that dies (the request or transaction is lost, the
 * session goes on), topology changes. Confined to the client's event loop.
 */
final class SessionEngine implements SessionView, BackendListener {
    private static final Logger log = LoggerFactory.getLogger(ClientSession.class);
    private static final long PARK_POLL_MILLIS = 50;

    /** What the engine waits for before the current request can go on. */
    private enum Wait {
        NONE,
        /** A backend is being acquired for {@code waitNode}. */
        BACKEND,
        /** The backend still answering earlier requests must finish first (replies stay in order). */
        ORDER,
        /** A primary to appear, the primary gate to open, or a write position to be learned. */
        PRIMARY,
        /** The replica {@code waitNode} is asked whether it replayed the session's writes. */
        REPLAY_CHECK
    }

    /** A request sent and not answered with ReadyForQuery yet: the statements whose effects apply then. */
    private record InFlight(List<StatementFacts> executed, boolean ddl) {
        static final InFlight PLAIN = new InFlight(List.of(), false);
    }

    private final ClientLink client;
    private final EventLoop loop;
    private final SessionParts parts;
    private final SessionCluster cluster;
    private final Router router;
    private final HeldBackends backends;
    private final StateReplay replay;
    private final SessionEffects effects;
    private final SessionObjects objects;
    private final SessionSettings settings;
    private final CausalTracker causal;
    private final TransactionState transaction;
    private final LocalAnswerer local;
    private final RequestAssembler assembler;
    private final ReplicaRetry retry = new ReplicaRetry();
    private final ProxyMetrics metrics;
    private final PrimaryGate gate;
    private final UnitTimer unitTimer = new UnitTimer();
    private final ClientRegistry.Entry registration;

    private final Request request = new Request();
    private final ArrayDeque<InFlight> inflight = new ArrayDeque<>();
    /** Statements of Flush-ended parts of an extended batch: they apply with its Sync. */
    private final List<StatementFacts> flushed = new ArrayList<>(0);
    /** The backend the latest request went to; replies are flowing from it while it is not idle. */
    private BackendConnection current;
    private Wait wait = Wait.NONE;
    private int waitNode = -1;
    private boolean waitCheck;
    private long parkDeadlineNanos;
    private boolean insideGate;
    private int stickyReplica = -1;
    private boolean retryOnPrimary;
    private long topologyVersionSeen = -1;
    private boolean backendNeedsFlush;
    private boolean closed;

    SessionEngine(ClientLink client, EventLoop loop, SessionParts parts, BackendConnection loginBackend) {
        this.client = client;
        this.loop = loop;
        this.parts = parts;
        this.cluster = parts.cluster();
        this.router = parts.router();
        this.backends = parts.backends();
        this.settings = parts.settings();
        this.objects = parts.objects();
        this.causal = parts.causal();
        this.transaction = parts.transaction();
        this.metrics = parts.metrics();
        this.gate = parts.gate();
        this.registration = parts.registration();
        this.replay = new StateReplay(settings, objects, this::onReplayed);
        this.effects = new SessionEffects(settings, objects);
        this.local = new LocalAnswerer(parts.proxySettings(), transaction, settings, parts.processId(),
                parts.signals());
        this.assembler = new RequestAssembler(parts.classifier(), objects, parts::standardConformingStrings,
                settings::stateKey);
        this.current = loginBackend;
        if (loginBackend != null) {
            loginBackend.attach(this);
        }
    }

    /** The login completed: in transaction pooling the login's backend goes back to its pool at once. */
    void started() {
        maybeRelease();
    }

    // ---------------------------------------------------------------- client frames

    /** Whether the current request waits: the client's further frames queue up. */
    boolean waiting() {
        return wait != Wait.NONE;
    }

    BackendConnection current() {
        return current;
    }

    /** One client frame (ownership passes). */
    void frame(ByteBuf frame) {
        byte type = Wire.frameType(frame);
        if (type == 'd' || type == 'c' || type == 'f') {
            copyData(frame);
            return;
        }
        if (!RequestAssembler.isRequestFrame(type)) {
            frame.release();
            throw type == 'p' ? PgProtocolException.violation("unexpected password message after authentication")
                    : RequestAssembler.invalid(type);
        }
        if (assembler.add(request, frame)) {
            dispatch();
        }
    }

    private void copyData(ByteBuf frame) {
        BackendConnection backend = current;
        if (backend == null || !backend.isUsable()) {
            frame.release();
            return;
        }
        backend.writeClientFrame(frame);
        backendNeedsFlush = true;
    }

    void flushBackend() {
        if (backendNeedsFlush) {
            backendNeedsFlush = false;
            if (current != null) {
                current.flush();
            }
        }
    }

    // ---------------------------------------------------------------- routing

    private void dispatch() {
        Topology topology = cluster.topology();
        if (topology.version() != topologyVersionSeen) {
            topologyChanged(topology);
        }
        if (causal.state().constrained()) {
            causal.state().followTimeline(topology);
        }
        Decision decision = router.decide(request, this, topology);
        if (log.isDebugEnabled()) {
            log.debug("client {}: request ending '{}' → {}", client.describe(), (char) request.terminator, decision);
        }
        if (decision instanceof Decision.Local answer) {
            answerLocally(answer.answer());
        } else if (decision instanceof Decision.Continue next) {
            send(next.node(), false);
        } else if (decision instanceof Decision.Primary primary) {
            if (primary.cause() == Decision.PrimaryCause.CAUSAL) {
                metrics.causalPrimaryRead();
            } else if (primary.cause() == Decision.PrimaryCause.FALLBACK) {
                metrics.fallback();
            }
            if (enterGate()) {
                send(primary.node(), false);
            } else {
                park(Decision.WaitCause.NO_PRIMARY);
            }
        } else if (decision instanceof Decision.Replica replica) {
            metrics.replicaRead(replica.node());
            if (!parts.transactionPooling()) {
                stickyReplica = replica.node();
            }
            send(replica.node(), replica.checkReplay());
        } else if (decision instanceof Decision.Wait waitFor) {
            park(waitFor.cause());
        } else if (decision instanceof Decision.Refuse refuse) {
            failRequest(ErrorResponse.error(refuse.sqlState(), refuse.message()));
        }
    }

    /** New primary work enters the primary gate (a switchover holds it at transaction boundaries). */
    private boolean enterGate() {
        if (!insideGate) {
            if (!gate.tryEnter()) {
                return false;
            }
            insideGate = true;
        }
        return true;
    }

    /** Leaves the primary gate once nothing of the session is under way on the primary. */
    private void maybeLeaveGate() {
        if (insideGate && transaction.idle() && inflight.isEmpty() && !causal.state().positionPending()
                && wait == Wait.NONE) {
            insideGate = false;
            gate.exit();
        }
    }

    private void send(int node, boolean checkReplay) {
        retryOnPrimary = false;
        BackendConnection backend = backends.usable(node);
        if (current != null && current != backend && !current.isIdle()) {
            waitFor(Wait.ORDER, node, checkReplay);
            return;
        }
        if (backend == null) {
            waitFor(Wait.BACKEND, node, checkReplay);
            if (!backends.acquiring(node)) {
                acquire(node);
            }
            return;
        }
        if (checkReplay) {
            checkReplay(backend, node);
            return;
        }
        write(backend);
    }

    private void waitFor(Wait what, int node, boolean checkReplay) {
        wait = what;
        waitNode = node;
        waitCheck = checkReplay;
    }

    private void clearWait() {
        wait = Wait.NONE;
        waitNode = -1;
        waitCheck = false;
    }

    /** Goes on with the waiting request where the wait allows, then with whatever the client sent meanwhile. */
    private void resume() {
        if (closed || wait == Wait.NONE || wait == Wait.REPLAY_CHECK) {
            return;
        }
        if (wait == Wait.PRIMARY) {
            unpark();
            return;
        }
        int node = waitNode;
        boolean check = waitCheck;
        clearWait();
        continueWith(() -> send(node, check));
    }

    /** Routes the waiting request afresh. */
    private void redecide() {
        clearWait();
        continueWith(this::dispatch);
    }

    private void continueWith(Runnable step) {
        try {
            step.run();
        } catch (RuntimeException e) {
            client.fail(e);
            return;
        }
        if (wait == Wait.NONE) {
            flushBackend();
            client.drain();
        }
    }

    /**
     * Waits for a primary (failover), for the primary gate to open (switchover) or for the write
     * position SHOW pgrelay.last_lsn must see: the client sees a slow statement, not an error,
     * unless the wait exceeds {@code failover.client-wait}.
     */
    private void park(Decision.WaitCause cause) {
        long now = System.nanoTime();
        if (parkDeadlineNanos == 0) {
            parkDeadlineNanos = now + parts.clientWaitNanos();
            if (cause == Decision.WaitCause.NO_PRIMARY) {
                metrics.primaryWait();
            }
        } else if (now - parkDeadlineNanos >= 0) {
            parkDeadlineNanos = 0;
            failRequest(ErrorResponse.error(SqlState.CANNOT_CONNECT_NOW, gate.isClosed()
                    ? "the primary is being switched over; please retry" : "no primary node is available"));
            return;
        }
        wait = Wait.PRIMARY;
        if (gate.isClosed()) {
            gate.await(() -> loop.execute(this::unpark));
        }
        // Polling also covers a primary appearing and a gate opening between the checks.
        loop.schedule(this::unpark, PARK_POLL_MILLIS, TimeUnit.MILLISECONDS);
    }

    private void unpark() {
        if (closed || wait != Wait.PRIMARY) {
            return;
        }
        clearWait();
        continueWith(this::dispatch);
        if (wait == Wait.NONE) {
            parkDeadlineNanos = 0;
        }
    }

    /**
     * The topology changed: backends held on nodes that no longer serve this session's work
     * (a demoted or fenced old primary, a replica gone bad) are given up while idle. State
     * that lives only on the old primary (temp tables, LISTEN, …) cannot move: such a session
     * is ended with 57P01 rather than silently continued without it.
     */
    private void topologyChanged(Topology topology) {
        topologyVersionSeen = topology.version();
        backends.ensureSlots(topology.nodes().size());
        causal.ensureSlots(topology.nodes().size());
        NodeStatus primary = topology.primary();
        for (int i = 0; i < backends.slots(); i++) {
            BackendConnection backend = backends.get(i);
            if (backend == null || (primary != null && primary.index() == i)) {
                continue;
            }
            NodeStatus node = topology.node(i);
            boolean serves = node.role() == Role.REPLICA && node.isUp();
            if (serves || !backend.isIdle() || (backend == current && transaction.inTransaction())) {
                continue;
            }
            if (primary != null && node.role() != Role.REPLICA && objects.pinned()) {
                throw new PgProtocolException(SqlState.ADMIN_SHUTDOWN, "the primary moved to " + primary.name()
                        + "; this session's temporary tables, LISTEN channels, advisory locks or held cursors "
                        + "stayed on " + node.name() + ": reconnect");
            }
            backends.remove(i);
            if (current == backend) {
                current = null;
            }
            backend.close();
        }
    }

    // ---------------------------------------------------------------- backends

    private void acquire(int node) {
        Future<BackendConnection> acquired = backends.acquire(cluster.topology().node(node), loop);
        if (acquired.isDone()) {
            onAcquired(acquired, node);
        } else {
            acquired.addListener(done -> onAcquired(acquired, node));
        }
    }

    private void onAcquired(Future<BackendConnection> future, int node) {
        backends.acquired(node);
        if (!future.isSuccess()) {
            if (!closed && wait == Wait.BACKEND && waitNode == node) {
                acquisitionFailed(node, future.cause());
            }
            return;
        }
        BackendConnection backend = future.getNow();
        if (closed || backends.get(node) != null) {
            backend.recycle(parts.resetQuery());
            return;
        }
        if (cluster.isPrimary(node) && backend.isHotStandby()) {
            // Writes never go to a server in recovery, whatever the monitor last saw.
            log.warn("{} reports in_hot_standby=on although it was taken for the primary", backend);
            backend.close();
            cluster.distrustPrimary(node);
            clearWait();
            park(Decision.WaitCause.NO_PRIMARY);
            return;
        }
        backends.put(node, backend);
        backend.attach(this);
        resume();
    }

    private void acquisitionFailed(int node, Throwable cause) {
        boolean primary = cluster.primaryIndex() < 0 || cluster.isPrimary(node);
        cluster.probeSoon(node);
        if (!primary && !parts.refuseWithoutReplica()) {
            // A replica that cannot be reached: the monitor will take it out; meanwhile the primary serves.
            log.info("client {}: replica {} unavailable ({}); reading from the primary", client.describe(),
                    cluster.topology().node(node).name(), cause.getMessage());
            metrics.replicaFailure();
            retryOnPrimary = true;
            redecide();
        } else if (primary && SessionLogin.unreachable(cause)) {
            // The primary is unreachable: wait (bounded) for it to come back or for a new one.
            clearWait();
            park(Decision.WaitCause.NO_PRIMARY);
        } else {
            ErrorResponse error = cause instanceof BackendStartupException startup ? startup.error()
                    : ErrorResponse.error(SqlState.CONNECTION_FAILURE, String.valueOf(cause.getMessage()));
            failRequest(ErrorResponse.error(error.sqlState(), error.message()));
        }
    }

    /** Asks the chosen replica how far it has replayed before sending it the request. */
    private void checkReplay(BackendConnection backend, int node) {
        waitFor(Wait.REPLAY_CHECK, node, false);
        metrics.causalCheck();
        causal.checkReplica(backend, cluster.topology().node(node), reached -> {
            if (closed || wait != Wait.REPLAY_CHECK || waitNode != node) {
                return;
            }
            clearWait();
            if (reached) {
                continueWith(() -> send(node, false));
            } else {
                retryOnPrimary = true;
                redecide();
            }
        });
    }

    // ---------------------------------------------------------------- sending

    private void write(BackendConnection backend) {
        boolean retryable = retryable(backend);
        current = backend;
        boolean primary = cluster.isPrimary(backend.nodeIndex());
        if (primary && causal.state().causal() && Router.primaryReason(request, this) != null) {
            causal.mayHaveWritten();
        }
        if (transaction.deferredBegin != null) {
            String begin = transaction.deferredBegin.beginSql();
            transaction.deferredBegin = null;
            replay.settings(backend, this::onReplayed);
            backend.writeInternalQuery(begin, this::onReplayed);
        } else {
            replay.settings(backend, this::onReplayed);
        }
        replay.sqlStatements(backend, request);
        if (retryable) {
            retry.keep(request);
        }
        long sent = 0;
        List<ByteBuf> frames = request.frames;
        for (int i = 0; i < frames.size(); i++) {
            ByteBuf frame = frames.get(i);
            sent += frame.readableBytes();
            replay.beforeFrame(backend, request, i, frame);
            backend.writeClientFrame(frame);
        }
        effects.sent(request.executed);
        if (request.complete()) {
            unitTimer.sent();
            inflight.addLast(inFlight());
        } else {
            flushed.addAll(request.executed);
        }
        transaction.extendedOpen = !request.complete()
                || (transaction.extendedOpen && request.terminator != 'S' && request.terminator != 'Q');
        if (retryable) {
            backend.holdUntilResult();
        }
        metrics.statementRouted(backend.nodeIndex(), primary ? Route.PRIMARY : Route.REPLICA,
                request.kind != null ? request.kind : StatementKind.OTHER);
        metrics.bytesSent(backend.nodeIndex(), sent);
        if (registration != null) {
            registration.node(backend.key().nodeName());
            registration.active(true);
        }
        request.clear();
        backendNeedsFlush = true;
    }

    private InFlight inFlight() {
        boolean ddl = request.has(Trait.DDL);
        boolean withEffects = !flushed.isEmpty();
        for (StatementFacts statement : request.executed) {
            withEffects |= !statement.effects().isEmpty();
        }
        if (!withEffects && !ddl) {
            return InFlight.PLAIN;
        }
        List<StatementFacts> executed = new ArrayList<>(flushed.size() + request.executed.size());
        executed.addAll(flushed);
        executed.addAll(request.executed);
        flushed.clear();
        return new InFlight(executed, ddl);
    }

    /** Whether a replica's refusal of this request can be hidden by running it on the primary. */
    private boolean retryable(BackendConnection backend) {
        NodeStatus node = cluster.topology().node(backend.nodeIndex());
        return node.role() == Role.REPLICA && transaction.idle() && !request.hasEffect(SessionEffect.Begin.class)
                && !request.has(Trait.COPY_FROM_STDIN) && request.complete() && !retry.holding();
    }

    /**
     * A replay failed (a role the user may no longer set, a prepared statement whose table is
     * gone): the client's work queued behind it would run in a state the session did not ask
     * for. The backend goes, and the client gets the replay's error in place of its replies.
     */
    private void onReplayed(BackendConnection backend, ErrorResponse error) {
        if (error == null || closed) {
            return;
        }
        log.warn("client {}: could not re-establish session state on {}: {}", client.describe(), backend,
                error.message());
        backend.sessionState().settings(io.pgrelay.core.backend.AppliedSettings.UNKNOWN);
        if (backends.get(backend.nodeIndex()) != backend || !backend.isUsable()) {
            return;
        }
        backends.forget(backend);
        if (current == backend) {
            current = null;
            unitTimer.clear();
        }
        backend.detach();
        backend.close();
        if (objects.pinned() && cluster.isPrimary(backend.nodeIndex())) {
            client.fatal(error.sqlState(), error.message());
            return;
        }
        failInFlight(error.message(), ErrorResponse.error(error.sqlState(), error.message()));
    }

    // ---------------------------------------------------------------- local answers and failures

    private void answerLocally(Decision.LocalAnswer answer) {
        metrics.statementLocal(request.kind != null ? request.kind : StatementKind.OTHER);
        ByteBuf replies = local.answer(answer, request, client.alloc());
        request.release();
        client.write(replies);
        client.flush();
        maybeLeaveGate();
    }

    /** The request cannot be served: the client gets an error in place of the replies. */
    private void failRequest(ErrorResponse error) {
        clearWait();
        boolean ready = request.complete();
        request.release();
        transaction.extendedOpen = false;
        client.write(LocalReplies.error(client.alloc(), error, ready, transaction.status));
        client.flush();
        client.drain();
    }

    // ---------------------------------------------------------------- backend -> client

    @Override
    public void onBackendData(BackendConnection backend, ByteBuf bytes) {
        metrics.bytesReceived(backend.nodeIndex(), bytes.readableBytes());
        client.write(bytes);
    }

    @Override
    public void onBackendParameter(BackendConnection backend, String name, String value) {
        parts.clientParameters().put(name, value);
    }

    @Override
    public void onBackendReadComplete(BackendConnection backend) {
        client.flush();
        if (client.isWritable()) {
            backend.requestRead();
        } else {
            client.backendReadPaused();
        }
    }

    @Override
    public void onBackendWritabilityChanged(BackendConnection backend, boolean writable) {
        if (writable && backend == current) {
            client.readMore();
        }
    }

    @Override
    public void onBackendReady(BackendConnection backend, TransactionStatus status, boolean idle) {
        transaction.status = status;
        retry.release();
        InFlight done = inflight.pollFirst();
        unitTimer.completed(metrics);
        if (registration != null) {
            registration.transactionStatus(status);
            registration.active(!idle);
        }
        if (done != null) {
            if (done.ddl()) {
                parts.classifier().schemaChanged();
            }
            SessionEffects.Outcome outcome = effects.completed(done.executed(), backend.lastUnitCompleted(),
                    backend.lastUnitFailed(), status != TransactionStatus.IDLE, backend.sessionState());
            if (outcome == SessionEffects.Outcome.DISCARDED_ALL) {
                dropOtherBackends(backend);
            }
        }
        if (causal.positionToLearn() && status == TransactionStatus.IDLE && idle && !transaction.extendedOpen
                && cluster.isPrimary(backend.nodeIndex())) {
            int timeline = cluster.topology().node(backend.nodeIndex()).timeline();
            causal.learnPosition(backend, timeline, () -> {
                if (closed) {
                    return;
                }
                if (backend.isIdle()) {
                    maybeRelease();
                    maybeLeaveGate();
                }
                resume();
            });
            return;
        }
        if (idle) {
            maybeRelease();
            maybeLeaveGate();
            resume();
        }
    }

    /** DISCARD ALL ran on one backend: the others the session holds keep what it discarded, so they go. */
    private void dropOtherBackends(BackendConnection kept) {
        for (int i = 0; i < backends.slots(); i++) {
            BackendConnection backend = backends.get(i);
            if (backend != null && backend != kept && backend.isIdle()) {
                backends.remove(i);
                backend.recycle(parts.resetQuery());
            }
        }
    }

    /** Transaction pooling: backends go back to their pools as soon as the client no longer needs them. */
    private void maybeRelease() {
        if (!parts.transactionPooling() || !transaction.idle()) {
            return;
        }
        boolean flushed = false;
        for (int i = 0; i < backends.slots(); i++) {
            BackendConnection backend = backends.get(i);
            if (backend == null || !backend.isIdle() || (wait != Wait.NONE && waitNode == i)
                    || (objects.pinned() && cluster.isPrimary(i))) {
                continue;
            }
            backends.remove(i);
            if (current == backend) {
                current = null;
                if (registration != null) {
                    registration.node(null);
                }
            }
            if (!flushed) {
                // Replies were written, but flushing waits for the read burst to end, which
                // the session no longer sees once the backend is released.
                client.flush();
                flushed = true;
            }
            backend.release();
        }
    }

    @Override
    public void onBackendRetry(BackendConnection backend) {
        // A replica refused the statement before the client saw anything: run it on the primary.
        metrics.replicaRetry();
        unitTimer.dropOldest();
        maybeRelease();
        rerunOnPrimary(true);
    }

    /** Runs the request a replica could not serve again on the primary; {@code remember}: as a write from now on. */
    private void rerunOnPrimary(boolean remember) {
        if (!retry.holding() || closed) {
            retry.release();
            return;
        }
        if (remember) {
            rememberPrimary();
        }
        if (request.isEmpty() && wait == Wait.NONE && inflight.size() == 1) {
            inflight.pollFirst();
            retry.moveTo(request);
            retryOnPrimary = true;
            continueWith(this::dispatch);
        } else {
            // More of the client's work is under way or queued behind it: answer with an error rather than reorder.
            retry.release();
            log.warn("client {}: could not re-run a statement a replica could not serve", client.describe());
            failInFlight("the replica could not serve it");
        }
    }

    private void rememberPrimary() {
        boolean scs = parts.standardConformingStrings();
        for (ByteBuf frame : retry.frames()) {
            byte type = Wire.frameType(frame);
            if (type == 'Q') {
                parts.classifier().rememberPrimary(frame, FramePeek.querySqlStart(frame),
                        FramePeek.querySqlLength(frame), scs);
            } else if (type == 'P') {
                parts.classifier().rememberPrimary(frame, FramePeek.parseSqlStart(frame),
                        FramePeek.parseSqlLength(frame), scs);
            }
        }
    }

    @Override
    public void onBackendClosed(BackendConnection backend, String reason) {
        int node = backend.nodeIndex();
        backends.forget(backend);
        boolean wasBusy = backend == current && (!inflight.isEmpty() || transaction.inTransaction()
                || transaction.extendedOpen);
        if (backend == current) {
            current = null;
            unitTimer.clear();
            if (registration != null) {
                registration.node(null);
            }
        }
        if (closed) {
            return;
        }
        boolean primary = cluster.primaryIndex() < 0 || cluster.isPrimary(node);
        if (wasBusy && retry.holding() && backend.repliesHeld() && !primary) {
            // A replica died before any reply reached the client: the primary runs the request.
            log.info("client {}: {} closed during a read ({}); re-running it on the primary", client.describe(),
                    backend, reason);
            cluster.probeSoon(node);
            metrics.replicaFailure();
            rerunOnPrimary(false);
            return;
        }
        if (primary && objects.pinned()) {
            client.fatal(SqlState.CONNECTION_FAILURE, "the connection to the database server was lost: " + reason);
        } else if (wasBusy) {
            failInFlight(reason);
        } else {
            resume();
        }
    }

    /**
     * The server running the client's work died. The client gets an error in place of the
     * outstanding replies and stays connected: outside a transaction it may simply retry
     * (08006: whether an autocommit write committed is unknown, as with any lost
     * connection); inside one, pgrelay answers as an aborted transaction (25P02) until the
     * client ends it, then the session goes on on whatever node is now the primary.
     */
    private void failInFlight(String reason) {
        failInFlight(reason, null);
    }

    /** {@link #failInFlight(String)}; {@code replaced}: the error the client gets for its outstanding work. */
    private void failInFlight(String reason, ErrorResponse replaced) {
        boolean inTransaction = transaction.inTransaction();
        int outstanding = inflight.size();
        inflight.clear();
        flushed.clear();
        retry.release();
        transaction.extendedOpen = false;
        causal.writeLost();
        int primary = cluster.primaryIndex();
        cluster.probeSoon(primary >= 0 ? primary : 0);
        if (inTransaction) {
            transaction.lost.serverDied(reason, outstanding > 0);
            transaction.status = TransactionStatus.FAILED;
            settings.requestEnded(true, true);
        }
        if (outstanding > 0) {
            ErrorResponse error = replaced != null ? replaced : LostTransaction.lostReply(reason, inTransaction);
            for (int i = 0; i < outstanding; i++) {
                client.write(LocalReplies.error(client.alloc(), error, true, transaction.status));
            }
            client.flush();
        }
        maybeLeaveGate();
        if (wait != Wait.NONE) {
            // A request waiting for this server (or behind it) is routed afresh: locally when the
            // transaction is now aborted, else to wherever it can run now.
            redecide();
        } else {
            client.drain();
        }
    }

    // ---------------------------------------------------------------- cancel and end

    /** Cancels what the session runs now (on the session's loop). */
    void cancel() {
        BackendConnection backend = current;
        if (backend != null && !backend.isIdle() && backend.isUsable()) {
            parts.cancelBackend(backend);
        }
    }

    /** The client is gone: every backend goes back to its pool, clean, or is closed. */
    void close() {
        if (closed) {
            return;
        }
        closed = true;
        request.release();
        retry.release();
        if (insideGate) {
            insideGate = false;
            gate.exit();
        }
        BackendConnection open = transaction.extendedOpen ? current : null;
        // A backend that had the client's temporary objects keeps its temp namespace after a
        // reset; the next client would see traces of it (PREPARE TRANSACTION refuses, ...).
        boolean temporary = objects.pins().contains(SessionObjects.Pin.TEMPORARY_OBJECTS);
        backends.removeAll(backend -> {
            if (backend == open || temporary && cluster.isPrimary(backend.nodeIndex())) {
                backend.close();
            } else {
                backend.recycle(parts.resetQuery());
            }
        });
        current = null;
    }

    /** The client's backends may be read again (the client can take more). */
    void clientWritable() {
        backends.forEach(BackendConnection::requestRead);
    }

    // ---------------------------------------------------------------- SessionView

    @Override
    public boolean inTransaction() {
        return transaction.inTransaction();
    }

    @Override
    public boolean extendedOpen() {
        return transaction.extendedOpen;
    }

    @Override
    public int currentNode() {
        BackendConnection backend = current;
        return backend != null && backend.isUsable() ? backend.nodeIndex() : -1;
    }

    @Override
    public boolean deferredBegin() {
        return transaction.deferredBegin != null;
    }

    @Override
    public boolean deferredBeginReadOnly() {
        return transaction.deferredBegin != null && transaction.deferredBegin.readOnly()
                && !transaction.deferredBegin.serializable();
    }

    @Override
    public boolean transactionLost() {
        return transaction.lost.lost();
    }

    @Override
    public boolean pinned() {
        return objects.pinned();
    }

    @Override
    public ProxySettings.RouteOverride routeOverride() {
        return parts.proxySettings().routeOverride();
    }

    @Override
    public boolean defaultTransactionReadOnly() {
        return "on".equalsIgnoreCase(parts.clientParameters().get("default_transaction_read_only"));
    }

    @Override
    public Route sqlPreparedRoute(String name) {
        SessionObjects.SqlPrepared prepared = objects.sqlPrepared(name);
        return prepared == null ? null : prepared.route();
    }

    @Override
    public boolean holdsBackend() {
        return current != null || backends.holdsAny();
    }

    @Override
    public boolean positionPending() {
        return causal.state().positionPending();
    }

    @Override
    public boolean causalConstrained() {
        return causal.state().constrained();
    }

    @Override
    public boolean causalPrimaryOnly() {
        return causal.state().primaryOnly();
    }

    @Override
    public boolean causalSatisfied(NodeStatus replica) {
        return causal.satisfied(replica);
    }

    @Override
    public int stickyReplica() {
        return stickyReplica;
    }

    @Override
    public boolean retryOnPrimary() {
        return retryOnPrimary;
    }

    @Override
    public boolean signalsIssuedProcess(Request candidate) {
        SessionEffect.SignalBackend signal = candidate.soleEffect(SessionEffect.SignalBackend.class);
        return signal != null && parts.issuedProcess(signal.processId());
    }
}
