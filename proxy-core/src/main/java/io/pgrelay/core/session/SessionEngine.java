package io.pgrelay.core.session;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.pgrelay.core.backend.BackendConnection;
import io.pgrelay.core.classify.StatementFacts;
import io.pgrelay.core.classify.StatementKind;
import io.pgrelay.core.cluster.Topology;
import io.pgrelay.core.metrics.ProxyMetrics;
import io.pgrelay.core.metrics.UnitTimer;
import io.pgrelay.core.route.PrimaryGate;
import io.pgrelay.protocol.PgProtocolException;
import io.pgrelay.protocol.SqlState;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.backend.ErrorResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a logged-in session: routes each request ({@link Router}) and waits when it must (for a
 * backend, for the backend still answering earlier requests, for a primary, for a replica's
 * replay position); {@link RequestWriter} sends it, {@link BackendEvents} handles what the
 * backends answer and what happens to them. The state of the session's requests lives here,
 * shared by those three. Confined to the client's event loop.
 */
final class SessionEngine {
    private static final Logger log = LoggerFactory.getLogger(ClientSession.class);
    private static final long PARK_POLL_MILLIS = 50;

    /** What the engine waits for before the current request can go on. */
    enum Wait {
        NONE,
        /** A backend is being acquired for {@code waitNode}. */
        BACKEND,
        /** The backend still answering earlier requests must finish first (replies stay in order). */
        ORDER,
        /** A primary to appear, the primary gate to open, or a write position to be learned. */
        PRIMARY,
        /** The replica {@code waitNode} is asked whether it replayed the session's writes. */
        REPLAY_CHECK,
        /** A global read: the primary's position is being learned, or a replica is given time to replay it. */
        GLOBAL
    }

    /** A request sent and not answered with ReadyForQuery yet: the statements whose effects apply then. */
    record InFlight(List<StatementFacts> executed, boolean ddl) {
        static final InFlight PLAIN = new InFlight(List.of(), false);
    }

    final ClientLink client;
    final EventLoop loop;
    final SessionParts parts;
    final SessionCluster cluster;
    final Router router;
    final HeldBackends backends;
    final StateReplay replay;
    final SessionEffects effects;
    final SessionObjects objects;
    final SessionSettings settings;
    final CausalTracker causal;
    final GlobalRead global;
    final TransactionState transaction;
    final LocalAnswerer local;
    final RequestAssembler assembler;
    final ReplicaRetry retry = new ReplicaRetry();
    final ReplicaReadWaits readWaits = new ReplicaReadWaits(this);
    final OutstandingReads outstanding;
    final ProxyMetrics metrics;
    final PrimaryGate gate;
    final UnitTimer unitTimer = new UnitTimer();
    final ClientRegistry.Entry registration;
    final BackendEvents events;
    final RequestWriter writer;
    final EngineView view;

    final Request request = new Request();
    final ArrayDeque<InFlight> inflight = new ArrayDeque<>(2);
    /** Statements of Flush-ended parts of an extended batch: they apply with its Sync. */
    final List<StatementFacts> flushed = new ArrayList<>(0);
    /** The backend the latest request went to; replies are flowing from it while it is not idle. */
    BackendConnection current;
    Wait wait = Wait.NONE;
    int waitNode = -1;
    boolean waitCheck;
    long parkDeadlineNanos;
    boolean insideGate;
    int stickyReplica = -1;
    boolean retryOnPrimary;
    long topologyVersionSeen = -1;
    boolean backendNeedsFlush;
    boolean closed;

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
        this.global = parts.global();
        this.transaction = parts.transaction();
        this.metrics = parts.metrics();
        this.gate = parts.gate();
        this.registration = parts.registration();
        this.outstanding = new OutstandingReads(parts.balancer());
        this.events = new BackendEvents(this);
        this.writer = new RequestWriter(this);
        this.view = new EngineView(this);
        this.replay = new StateReplay(settings, objects, events::onReplayed);
        this.effects = new SessionEffects(settings, objects);
        this.local = new LocalAnswerer(parts.proxySettings(), transaction, settings, parts.processId(),
                parts.signals());
        this.assembler = new RequestAssembler(parts.classifier(), objects, parts::standardConformingStrings,
                settings::stateKey);
        this.current = loginBackend;
        if (loginBackend != null) {
            loginBackend.attach(events);
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

    void copyData(ByteBuf frame) {
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

    void dispatch() {
        Topology topology = cluster.topology();
        if (topology.version() != topologyVersionSeen) {
            topologyChanged(topology);
        }
        if (causal.state().constrained()) {
            causal.state().followTimeline(topology);
        }
        Decision decision = router.decide(request, view, topology);
        if (log.isDebugEnabled()) {
            log.debug("client {}: request ending '{}' → {}", client.describe(), (char) request.terminator, decision);
        }
        if (decision instanceof Decision.Local answer) {
            answerLocally(answer.answer());
        } else if (decision instanceof Decision.Continue next) {
            send(next.node(), false);
        } else if (decision instanceof Decision.Primary primary) {
            if (primary.cause() == Decision.PrimaryCause.GLOBAL) {
                metrics.globalPrimaryRead();
            } else if (primary.cause() == Decision.PrimaryCause.CAUSAL) {
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
            if (waitFor.cause() == Decision.WaitCause.GLOBAL_POSITION) {
                readWaits.learnPosition();
            } else {
                park(waitFor.cause());
            }
        } else if (decision instanceof Decision.Refuse refuse) {
            failRequest(ErrorResponse.error(refuse.sqlState(), refuse.message()));
        }
    }

    /** New primary work enters the primary gate (a switchover holds it at transaction boundaries). */
    boolean enterGate() {
        if (!insideGate) {
            if (!gate.tryEnter()) {
                return false;
            }
            insideGate = true;
        }
        return true;
    }

    /** Leaves the primary gate once nothing of the session is under way on the primary. */
    void maybeLeaveGate() {
        if (insideGate && transaction.idle() && inflight.isEmpty() && !causal.state().positionPending()
                && wait == Wait.NONE) {
            insideGate = false;
            gate.exit();
        }
    }

    /**
     * Nothing of the session is under way: no transaction or batch open, no request unanswered,
     * nothing waiting. A shutdown ends a session here without cutting off any work of it.
     */
    boolean atBoundary() {
        return !closed && transaction.idle() && inflight.isEmpty() && !causal.state().positionPending()
                && wait == Wait.NONE;
    }

    /** Tells the client handler when the session may have reached a boundary. */
    void maybeQuiet() {
        if (atBoundary()) {
            client.quiet();
        }
    }

    void send(int node, boolean checkReplay) {
        retryOnPrimary = false;
        BackendConnection backend = backends.usable(node);
        if (current != null && current != backend && !current.isIdle()) {
            waitFor(Wait.ORDER, node, checkReplay);
            return;
        }
        if (backend == null) {
            waitFor(Wait.BACKEND, node, checkReplay);
            if (!backends.acquiring(node)) {
                events.acquire(node);
            }
            return;
        }
        if (checkReplay) {
            readWaits.checkReplay(backend, node);
            return;
        }
        writer.write(backend);
    }

    void waitFor(Wait what, int node, boolean checkReplay) {
        wait = what;
        waitNode = node;
        waitCheck = checkReplay;
    }

    void clearWait() {
        wait = Wait.NONE;
        waitNode = -1;
        waitCheck = false;
    }

    /** Goes on with the waiting request where the wait allows, then with whatever the client sent meanwhile. */
    void resume() {
        if (closed || wait == Wait.NONE || wait == Wait.REPLAY_CHECK || wait == Wait.GLOBAL) {
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
    void redecide() {
        clearWait();
        continueWith(this::dispatch);
    }

    void continueWith(Runnable step) {
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
    void park(Decision.WaitCause cause) {
        long now = System.nanoTime();

        if (parkDeadlineNanos == 0) {
            parkDeadlineNanos = now + parts.clientWaitNanos();
            if (cause == Decision.WaitCause.NO_PRIMARY) {
                metrics.primaryWait();
            }
        } else if (now - parkDeadlineNanos >= 0) {
            parkDeadlineNanos = 0;
            // A lapsed coordination lease waits like a missing primary (a late renewal passes unseen), but says so.
            failRequest(ErrorResponse.error(SqlState.CANNOT_CONNECT_NOW, cluster.writesSuspended()
                    ? "this pgrelay instance has not renewed its coordination lease in time; it sends no writes"
                    + " until it holds the current cluster record (reads on replicas go on); retry, or connect"
                    + " through another instance"
                    : gate.isClosed() ? "the primary is being switched over; please retry"
                    : "no primary node is available"));
            return;
        }
        wait = Wait.PRIMARY;
        if (gate.isClosed()) {
            gate.await(() -> loop.execute(this::unpark));
        }
        // Polling also covers a primary appearing and a gate opening between the checks.
        loop.schedule(this::unpark, PARK_POLL_MILLIS, TimeUnit.MILLISECONDS);
    }

    void unpark() {
        if (closed || wait != Wait.PRIMARY) {
            return;
        }
        clearWait();
        continueWith(this::dispatch);
        if (wait == Wait.NONE) {
            parkDeadlineNanos = 0;
        }
    }

    /** The topology changed: backends on nodes that no longer serve the session go (see {@link HeldBackends}). */
    void topologyChanged(Topology topology) {
        topologyVersionSeen = topology.version();
        BackendConnection busy = transaction.inTransaction() ? current : null;
        if (backends.dropUnserving(topology, busy, objects.pinned()).contains(current)) {
            current = null;
        }
    }

    // ---------------------------------------------------------------- backends

    // ---------------------------------------------------------------- sending

    // ---------------------------------------------------------------- local answers and failures

    void answerLocally(Decision.LocalAnswer answer) {
        metrics.statementLocal(request.kind != null ? request.kind : StatementKind.OTHER);
        ByteBuf replies = local.answer(answer, request, client.alloc());
        request.release();
        client.write(replies);
        client.flush();
        maybeLeaveGate();
    }

    /** The request cannot be served: the client gets an error in place of the replies. */
    void failRequest(ErrorResponse error) {
        clearWait();
        global.done();
        boolean ready = request.complete();
        request.release();
        transaction.extendedOpen = false;
        client.write(LocalReplies.error(client.alloc(), error, ready, transaction.status));
        client.flush();
        client.drain();
    }

    // ---------------------------------------------------------------- backend -> client

    /** Transaction pooling: backends go back to their pools as soon as the client no longer needs them. */
    void maybeRelease() {
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
        outstanding.lostAll();
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

}
