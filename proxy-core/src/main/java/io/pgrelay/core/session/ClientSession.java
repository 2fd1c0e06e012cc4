package io.pgrelay.core.session;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.util.ByteProcessor;
import io.netty.util.concurrent.Future;
import io.pgrelay.core.ProxyContext;
import io.pgrelay.core.auth.ClientCredentials;
import io.pgrelay.core.backend.BackendConnection;
import io.pgrelay.core.backend.BackendListener;
import io.pgrelay.core.backend.BackendPool;
import io.pgrelay.core.backend.BackendStartupException;
import io.pgrelay.core.classify.Classification;
import io.pgrelay.core.classify.SessionEffect;
import io.pgrelay.core.classify.StatementFacts;
import io.pgrelay.core.classify.Trait;
import io.pgrelay.core.classify.Route;
import io.pgrelay.core.cluster.NodeStatus;
import io.pgrelay.core.cluster.Topology;
import io.pgrelay.core.config.PoolMode;
import io.pgrelay.core.route.ReplicaBalancer;
import io.pgrelay.protocol.PgProtocolException;
import io.pgrelay.protocol.SqlState;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.Messages;
import io.pgrelay.protocol.message.backend.AuthenticationOk;
import io.pgrelay.protocol.message.backend.BackendKeyData;
import io.pgrelay.protocol.message.backend.ErrorResponse;
import io.pgrelay.protocol.message.backend.Fields;
import io.pgrelay.protocol.message.backend.ParameterStatus;
import io.pgrelay.protocol.message.backend.ReadyForQuery;
import io.pgrelay.protocol.message.backend.ReadyForQuery.TransactionStatus;
import io.pgrelay.protocol.message.frontend.Close;
import io.pgrelay.protocol.message.frontend.StartupMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One authenticated client. Groups its messages into units (a Query; extended-protocol
 * messages up to a Sync), classifies each unit, sends it to the primary or a replica, and
 * relays the replies, keeping the session's semantics whole across the servers it uses:
 * settings are replayed and prepared statements re-prepared on each server before the
 * client's statement runs there, and state only one server has pins the session to the
 * primary.
 *
 * <p>Messages for a server other than the one still answering earlier messages wait until
 * that one is done, so replies always reach the client in order. All state is confined to
 * the client's event loop; backends are opened on the same loop, so nothing needs locks.
 */
public final class ClientSession extends ChannelInboundHandlerAdapter
        implements BackendListener, CancelRegistry.Cancellable {
    private static final Logger log = LoggerFactory.getLogger(ClientSession.class);

    private enum State { CONNECTING, READY, CLOSED }

    private static final int LOCAL = -1;
    /** The unit waits: for a primary to appear, or for the primary gate to open. */
    private static final int PARKED = -2;
    /** The unit is routed again (its replica turned out not to have the session's writes). */
    private static final int REDECIDE = -3;
    private static final long PARK_POLL_MILLIS = 50;
    private static final long CATALOG_WAIT_MILLIS = 3000;
    /** Marks a unit in flight that changes the schema: the catalog is reloaded once it completes. */
    private static final List<SessionEffect> SCHEMA_CHANGE = java.util.Collections.unmodifiableList(new ArrayList<>(0));

    private final ProxyContext context;
    private final String user;
    private final String database;
    private final String backendUser;
    private final String backendPassword;
    private final boolean transactionPooling;
    private final SessionState session;
    private final SessionClassifier classifier;
    private final ArrayDeque<ByteBuf> waiting = new ArrayDeque<>();
    private final Unit unit = new Unit();
    private final Map<String, String> clientParameters = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);

    private ChannelHandlerContext ctx;
    private Channel client;
    private EventLoop loop;
    private CancelRegistry.Key cancelKey;
    private State state = State.CONNECTING;
    private BackendConnection[] held;
    private BackendPool[] pools;
    /** The backend the latest unit went to; replies are flowing from it while it is not idle. */
    private BackendConnection current;
    private TransactionStatus transactionStatus = TransactionStatus.IDLE;
    /** Extended-protocol messages went out without a Sync yet: the next ones must follow them. */
    private boolean extendedOpen;
    /** A unit is complete and waits (for a backend, or for the current one to finish). */
    private boolean blocked;
    private int blockedTarget = LOCAL;
    /** BEGIN answered by pgrelay and not yet sent: the next statement decides where the transaction runs. */
    private String deferredBegin;
    private boolean deferredBeginReadOnly;
    /** Per unit in flight (ended by a ReadyForQuery), its session commands, applied once it succeeded. */
    private final ArrayDeque<List<SessionEffect>> inflight = new ArrayDeque<>();
    /** Frames of the unit in flight on a replica, kept to run it again on the primary if the replica refuses. */
    private final List<ByteBuf> retryFrames = new ArrayList<>(4);
    /** Session pooling: the replica this session reads from, kept while it can take reads. */
    private int stickyReplica = LOCAL;
    private final CausalState causal;
    /** Per node: a replay position this session confirmed itself, and its timeline. */
    private long[] confirmedReplay;
    private int[] confirmedTimeline;
    private final ReplicaBalancer.ReadEligibility causalEligibility;
    /** The replica chosen for the unit must first confirm it replayed the session's writes. */
    private boolean causalCheck;
    /** Route the next unit to the primary: its replica failed or lacked the session's writes. */
    private boolean primaryOnce;
    /** A backend for this node is being acquired: never ask the pool twice. */
    private int acquiringTarget = LOCAL;
    private String causalCheckResult;
    /** A unit that may have written went to the primary since the session was last idle. */
    private boolean wroteSinceIdle;
    private String positionResult;
    /** The session has work on the primary and counts in the primary gate. */
    private boolean insideGate;
    private long parkDeadlineNanos;
    private long topologyVersionSeen = -1;
    /** The transaction's server died: pgrelay answers as an aborted transaction until it ends. */
    private boolean abortedLocally;
    /** Why the transaction was lost, when the client has not been told yet. */
    private String abortReason;
    private boolean abortedAnswer;
    private final io.pgrelay.core.metrics.ProxyMetrics metrics;
    /** This client in the console's SHOW CLIENTS; null in handler tests that skip the login. */
    private ClientRegistry.Entry registration;
    private final io.pgrelay.core.metrics.UnitTimer unitTimer = new io.pgrelay.core.metrics.UnitTimer();
    private boolean backendNeedsFlush;
    private boolean clientReadPaused;
    private boolean backendReadPaused;

    ClientSession(ProxyContext context, StartupMessage startup, ClientCredentials credentials) {
        this.context = context;
        this.user = startup.user();
        this.database = startup.database();
        this.backendUser = credentials != null ? credentials.backendUser() : user;
        this.backendPassword = credentials != null ? credentials.backendPassword() : null;
        this.transactionPooling = context.config().poolMode() == PoolMode.TRANSACTION;
        StartupOptions options = StartupOptions.parse(startup.parameters());
        this.session = new SessionState(new SessionSettings(options.settings()));
        this.classifier = context.classifiers().forDatabase(database);
        this.causal = new CausalState("causal".equals(context.config().routing().consistency()));
        this.causalEligibility = node -> context.readEligibility().canRead(node) && causalSatisfied(node);
        this.metrics = context.proxyMetrics();
        for (Map.Entry<String, String> setting : options.proxySettings().entrySet()) {
            applyProxySettingAtStartup(setting.getKey(), setting.getValue());
        }
    }

    private void applyProxySettingAtStartup(String name, String value) {
        ErrorResponse error = setProxySetting(name, value);
        if (error != null) {
            throw new PgProtocolException(error.sqlState(), error.message());
        }
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.client = ctx.channel();
        this.loop = ctx.channel().eventLoop();
        this.registration = ClientRegistry.of(client);
        int nodes = context.cluster().current().nodes().size();
        this.held = new BackendConnection[nodes];
        this.pools = new BackendPool[nodes];
        this.confirmedReplay = new long[nodes];
        this.confirmedTimeline = new int[nodes];
        this.cancelKey = context.cancels().register(this);
        connectPrimary();
    }

    /** Nodes added at runtime get slots. */
    private void ensureNodeSlots(int nodes) {
        if (held.length < nodes) {
            held = java.util.Arrays.copyOf(held, nodes);
            pools = java.util.Arrays.copyOf(pools, nodes);
            confirmedReplay = java.util.Arrays.copyOf(confirmedReplay, nodes);
            confirmedTimeline = java.util.Arrays.copyOf(confirmedTimeline, nodes);
        }
    }

    // ---------------------------------------------------------------- login

    /** Logs in through the primary; while there is none (a failover), waits for one. */
    private void connectPrimary() {
        if (state != State.CONNECTING) {
            return;
        }
        NodeStatus node = context.cluster().current().primary();
        if (node == null) {
            long now = System.nanoTime();
            if (parkDeadlineNanos == 0) {
                parkDeadlineNanos = now + primaryWaitNanos();
            }
            if (now - parkDeadlineNanos >= 0) {
                fatal(SqlState.CANNOT_CONNECT_NOW, "no primary node is available");
                return;
            }
            loop.schedule(this::connectPrimary, PARK_POLL_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS);
            return;
        }
        parkDeadlineNanos = 0;
        ensureNodeSlots(context.cluster().current().nodes().size());
        Future<BackendConnection> acquired = pool(node).acquire(loop);
        acquired.addListener(done -> onLoginBackend(acquired, node));
    }

    /**
     * A backend of the node taken for the primary reports being a standby: the node counts as
     * unknown (no writes) until the monitor, asked to probe it now, says what it is.
     */
    private void distrustPrimary(int index) {
        context.cluster().update(topology -> {
            NodeStatus node = topology.node(index);
            return node.role() == io.pgrelay.core.cluster.Role.PRIMARY
                    ? topology.with(node.withRole(io.pgrelay.core.cluster.Role.UNKNOWN)) : topology;
        });
        context.monitor().probeSoon(index);
    }

    /** A server that could not be reached (as opposed to one that refused the login). */
    private static boolean unreachable(Throwable cause) {
        return !(cause instanceof BackendStartupException startup) || startup.error().sqlState().startsWith("08");
    }

    /** The primary the monitor named is not one (any more): wait until the monitor knows better. */
    private void waitForPrimary(NodeStatus stale) {
        distrustPrimary(stale.index());
        if (parkDeadlineNanos == 0) {
            parkDeadlineNanos = System.nanoTime() + primaryWaitNanos();
        }
        loop.schedule(this::connectPrimary, PARK_POLL_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    private void onLoginBackend(Future<BackendConnection> future, NodeStatus node) {
        if (!future.isSuccess()) {
            if (state == State.CONNECTING && unreachable(future.cause())) {
                // The primary is unreachable: during a failover another one appears soon.
                long now = System.nanoTime();
                if (parkDeadlineNanos == 0) {
                    parkDeadlineNanos = now + primaryWaitNanos();
                }
                if (now - parkDeadlineNanos < 0) {
                    context.monitor().probeSoon(node.index());
                    loop.schedule(this::connectPrimary, PARK_POLL_MILLIS * 4, java.util.concurrent.TimeUnit.MILLISECONDS);
                    return;
                }
            }
            if (state != State.CLOSED) {
                failLogin(future.cause());
            }
            return;
        }
        BackendConnection backend = future.getNow();
        if (state == State.CLOSED) {
            backend.recycle(context.config().pool().resetQuery());
            return;
        }
        if (backend.isHotStandby()) {
            // The monitor's view is stale: this node was demoted or never was primary.
            log.warn("{} reports in_hot_standby=on although it was taken for the primary", backend);
            backend.close();
            waitForPrimary(node);
            return;
        }
        held[node.index()] = backend;
        current = backend;
        if (registration != null) {
            registration.node(node.name());
        }
        backend.attach(this);
        if (prepareSettings(backend, this::onLoginSettingsApplied)) {
            backend.flush();
        } else {
            completeLogin(backend);
        }
    }

    private void onLoginSettingsApplied(BackendConnection backend, ErrorResponse error) {
        if (state == State.CLOSED) {
            return;
        }
        if (error != null) {
            ClientErrors.sendAndClose(client, asFatal(error));
        } else {
            completeLogin(backend);
        }
    }

    private void failLogin(Throwable cause) {
        if (cause instanceof BackendStartupException startup) {
            log.info("client {}: login to the backend failed: {}", client.remoteAddress(), startup.getMessage());
            ClientErrors.sendAndClose(client, asFatal(startup.error()));
        } else {
            fatal(SqlState.CONNECTION_FAILURE, "could not connect to the primary: " + cause.getMessage());
        }
    }

    /**
     * The first client of a database waits (briefly) for its catalog: until it is loaded every
     * read would go to the primary.
     */
    private void completeLogin(BackendConnection backend) {
        java.util.concurrent.CompletableFuture<?> ready = classifier.ready();
        if (ready.isDone()) {
            finishLogin(backend);
            return;
        }
        io.netty.util.concurrent.ScheduledFuture<?> timeout = loop.schedule(() -> finishLogin(backend),
                CATALOG_WAIT_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS);
        ready.whenComplete((ignored, error) -> loop.execute(() -> {
            timeout.cancel(false);
            finishLogin(backend);
        }));
    }

    private void finishLogin(BackendConnection backend) {
        if (state != State.CONNECTING) {
            return;
        }
        client.write(Messages.encode(client.alloc(), AuthenticationOk.INSTANCE), client.voidPromise());
        for (Map.Entry<String, String> parameter : backend.parameters().entrySet()) {
            clientParameters.put(parameter.getKey(), parameter.getValue());
            client.write(Messages.encode(client.alloc(), new ParameterStatus(parameter.getKey(), parameter.getValue())),
                    client.voidPromise());
        }
        client.write(Messages.encode(client.alloc(), new BackendKeyData(cancelKey.processId(), cancelKey.secretKey())),
                client.voidPromise());
        client.writeAndFlush(Messages.encode(client.alloc(), ReadyForQuery.IDLE), client.voidPromise());
        state = State.READY;
        maybeRelease(backend);
        drain();
        readClient();
    }

    private static ErrorResponse asFatal(ErrorResponse error) {
        if (error.isFatal()) {
            return error;
        }
        Fields fields = error.fields().with(Fields.SEVERITY, "FATAL").with(Fields.SEVERITY_NON_LOCALIZED, "FATAL");
        return new ErrorResponse(fields);
    }

    // ---------------------------------------------------------------- client -> backend

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        if (state == State.CLOSED) {
            frame.release();
            return;
        }
        waiting.addLast(frame);
        if (state == State.READY && !blocked) {
            drain();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        flushBackend();
        readClient();
    }

    /** Processes queued client messages until one has to wait. */
    private void drain() {
        try {
            ByteBuf frame;
            while (state == State.READY && !blocked && (frame = waiting.pollFirst()) != null) {
                process(frame);
            }
        } catch (RuntimeException e) {
            ClientErrors.handle(client, e);
            return;
        }
        flushBackend();
    }

    private void process(ByteBuf frame) {
        byte type = Wire.frameType(frame);
        switch (type) {
            case 'Q' -> {
                addQuery(frame);
                unit.terminator = 'Q';
                dispatch();
            }
            case 'P' -> addParse(frame);
            case 'B' -> addBind(frame);
            case 'D' -> addDescribe(frame);
            case 'E' -> unit.add(frame, null);
            case 'C' -> addClose(frame);
            case 'S', 'H' -> {
                unit.add(frame, null);
                unit.terminator = type;
                dispatch();
            }
            case 'F' -> {
                unit.add(frame, null);
                unit.requirePrimary("function call");
                unit.terminator = 'F';
                dispatch();
            }
            case 'd', 'c', 'f' -> copyData(frame);
            case 'X' -> {
                frame.release();
                close();
            }
            case 'p' -> {
                frame.release();
                throw PgProtocolException.violation("unexpected password message after authentication");
            }
            default -> {
                frame.release();
                throw PgProtocolException.violation("invalid frontend message type " + (type & 0xff));
            }
        }
    }

    private boolean standardConformingStrings() {
        return !"off".equalsIgnoreCase(clientParameters.get("standard_conforming_strings"));
    }

    private void addQuery(ByteBuf frame) {
        unit.simpleQuery = true;
        unit.add(frame, null);
        int start = frame.readerIndex() + Wire.HEADER_LENGTH;
        int length = frame.readableBytes() - Wire.HEADER_LENGTH - 1;
        if (length < 0) {
            throw PgProtocolException.violation("invalid Query message");
        }
        noteClassification(classifier.classify(frame, start, length, standardConformingStrings()));
    }

    private void noteClassification(Classification classification) {
        unit.noteKind(classification.kind());
        unit.traits = unit.traits.union(classification.traits());
        boolean sessionDependent = classification.has(Trait.SESSION_OBJECT);
        for (StatementFacts statement : classification.statements()) {
            for (SessionEffect effect : statement.effects()) {
                unit.commands.add(effect);
                if (effect instanceof SessionEffect.ProxySetting) {
                    unit.proxySetting = true;
                } else if (effect instanceof SessionEffect.Begin begin) {
                    unit.begins = true;
                    unit.beginReadOnly = begin.modes().readOnly();
                } else if (effect instanceof SessionEffect.Fetch) {
                    sessionDependent = true;
                }
            }
        }
        if (!sessionDependent) {
            if (classification.route() == Route.PRIMARY) {
                unit.requirePrimary(classification.reason());
            }
            return;
        }
        // EXECUTE and FETCH go where the prepared statement may run / the cursor lives.
        unit.sessionDependent = true;
        for (StatementFacts statement : classification.statements()) {
            if (statement.route() == Route.PRIMARY) {
                unit.requirePrimary(statement.reason());
            }
            SessionEffect.Execute execute = statement.effect(SessionEffect.Execute.class);
            if (execute != null && statement.has(Trait.SESSION_OBJECT)) {
                SessionState.SqlPrepared prepared = session.sqlPrepared(execute.name());
                if (prepared == null || prepared.primaryOnly()) {
                    unit.requirePrimary("EXECUTE " + execute.name());
                }
            }
            if (statement.effect(SessionEffect.Fetch.class) != null) {
                unit.requirePrimary("FETCH from a cursor outside a transaction");
            }
        }
    }

    private void addParse(ByteBuf frame) {
        int body = frame.readerIndex() + Wire.HEADER_LENGTH;
        int end = frame.writerIndex();
        int nameEnd = frame.forEachByte(body, end - body, ByteProcessor.FIND_NUL);
        int sqlEnd = nameEnd < 0 ? -1 : frame.forEachByte(nameEnd + 1, end - nameEnd - 1, ByteProcessor.FIND_NUL);
        if (sqlEnd < 0) {
            frame.release();
            throw PgProtocolException.violation("invalid Parse message");
        }
        String name = nameEnd == body ? "" : frame.toString(body, nameEnd - body, StandardCharsets.UTF_8);
        if (name.isEmpty() || session.statement(name) != null) {
            // The server must see it: the unnamed statement, or a name it may have to refuse (42P05).
            unit.parseNeedsServer = true;
        }
        unit.add(frame, name);
        int sqlStart = nameEnd + 1;
        Classification classification = classifier.classify(frame, sqlStart, sqlEnd - sqlStart,
                standardConformingStrings());
        noteClassification(classification);
        if (!name.isEmpty()) {
            io.pgrelay.protocol.message.frontend.Parse parse =
                    io.pgrelay.protocol.message.frontend.Parse.decode(Wire.frameBody(frame));
            StatementIdentity identity = new StatementIdentity(name, parse.sql(), parse.parameterTypes(),
                    session.settings.stateKey());
            session.putStatement(name, new SessionState.PreparedStatement(identity, classification));
        }
    }

    private void addBind(ByteBuf frame) {
        String name = statementNameOfBind(frame);
        unit.add(frame, name);
        noteStatementUse(name);
    }

    /** The statement a Bind refers to; allocation-free for the unnamed statement. */
    private static String statementNameOfBind(ByteBuf frame) {
        int body = frame.readerIndex() + Wire.HEADER_LENGTH;
        int portalEnd = frame.forEachByte(body, frame.writerIndex() - body, ByteProcessor.FIND_NUL);
        if (portalEnd < 0 || portalEnd + 1 >= frame.writerIndex()) {
            throw PgProtocolException.violation("invalid Bind message");
        }
        if (frame.getByte(portalEnd + 1) == 0) {
            return "";
        }
        return io.pgrelay.protocol.message.frontend.Bind.peekStatementName(Wire.frameBody(frame));
    }

    private void addDescribe(ByteBuf frame) {
        byte kind = frame.getByte(frame.readerIndex() + Wire.HEADER_LENGTH);
        if (kind == 'S') {
            String name = frame.toString(frame.readerIndex() + Wire.HEADER_LENGTH + 1,
                    frame.readableBytes() - Wire.HEADER_LENGTH - 2, StandardCharsets.UTF_8);
            unit.add(frame, name);
            noteStatementUse(name);
        } else {
            unit.add(frame, null);
        }
    }

    private void addClose(ByteBuf frame) {
        byte kind = frame.getByte(frame.readerIndex() + Wire.HEADER_LENGTH);
        if (kind == 'S') {
            String name = frame.toString(frame.readerIndex() + Wire.HEADER_LENGTH + 1,
                    frame.readableBytes() - Wire.HEADER_LENGTH - 2, StandardCharsets.UTF_8);
            unit.add(frame, name);
        } else {
            unit.add(frame, null);
        }
    }

    /** A Bind or Describe of a statement parsed earlier (in this unit or before). */
    private void noteStatementUse(String name) {
        if (name.isEmpty() || parsedInUnit(name)) {
            return;
        }
        SessionState.PreparedStatement statement = session.statement(name);
        if (statement == null) {
            unit.requirePrimary("unknown prepared statement " + name);
        } else if (statement.classification().route() == Route.PRIMARY) {
            unit.requirePrimary(statement.classification().reason());
        }
        if (statement != null) {
            unit.noteKind(statement.classification().kind());
            unit.traits = unit.traits.union(statement.classification().traits());
        }
    }

    private boolean parsedInUnit(String name) {
        for (int i = 0; i < unit.frames.size() - 1; i++) {
            if (Wire.frameType(unit.frames.get(i)) == 'P' && name.equals(unit.names.get(i))) {
                return true;
            }
        }
        return false;
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

    // ---------------------------------------------------------------- routing

    private void dispatch() {
        if (abortedLocally) {
            answerLocally();
            return;
        }
        int target = decide();
        if (target == PARKED) {
            park();
            return;
        }
        if (log.isDebugEnabled()) {
            log.debug("client {}: unit ending '{}' → {} ({})", client.remoteAddress(), (char) unit.terminator,
                    target == LOCAL ? "pgrelay" : context.cluster().current().node(target).name(),
                    unit.primaryOnly ? unit.reason : "replica-safe");
        }
        if (target == LOCAL) {
            answerLocally();
            return;
        }
        sendUnit(target);
    }

    /** Where the unit goes: a node index, or LOCAL when pgrelay answers it itself. */
    private int decide() {
        if (isLocalPrepare()) {
            unit.commands.clear();
            return LOCAL;
        }
        if (unit.proxySetting) {
            // SHOW pgrelay.last_lsn right after a write must see that write's position.
            return causal.positionPending() ? PARKED : LOCAL;
        }
        if (deferredBegin != null) {
            if (endsDeferred()) {
                return LOCAL;
            }
        } else {
            BackendConnection backend = current;
            if (backend != null && (transactionStatus != TransactionStatus.IDLE || extendedOpen) && backend.isUsable()) {
                return backend.nodeIndex();
            }
            if (isDeferrableBegin()) {
                return LOCAL;
            }
        }
        Topology topology = context.cluster().current();
        if (topology.version() != topologyVersionSeen) {
            topologyChanged(topology);
        }
        NodeStatus primary = topology.primary();
        boolean toPrimary = unit.primaryOnly || session.pinned() || unit.has(Trait.HINT_PRIMARY)
                || session.routeOverride() == SessionState.RouteOverride.PRIMARY
                || unit.terminator == 'H' || !context.config().routing().readsToReplicas();
        if (deferredBegin != null && !toPrimary) {
            toPrimary = !deferredBeginReadOnly && !deferredTransactionMayUseReplica();
        }
        if (!toPrimary && unit.begins && !unit.beginReadOnly
                && !defaultTransactionReadOnly()) {
            toPrimary = true;
        }
        causalCheck = false;
        if (!toPrimary && causal.constrained()) {
            causal.followTimeline(topology);
            if (causal.primaryOnly() || primaryOnce) {
                toPrimary = true;
                metrics.causalPrimaryRead();
            }
        }
        if (primaryOnce) {
            // The replica chosen before could not serve the unit.
            toPrimary = true;
            primaryOnce = false;
        }
        if (toPrimary) {
            return primaryTarget(primary);
        }
        ReplicaBalancer.ReadEligibility eligibility = causal.constrained() ? causalEligibility
                : context.readEligibility();
        NodeStatus replica = null;
        if (!transactionPooling && stickyReplica != LOCAL && stickyReplica < topology.nodes().size()) {
            NodeStatus sticky = topology.node(stickyReplica);
            if (sticky.role() == io.pgrelay.core.cluster.Role.REPLICA && eligibility.canRead(sticky)) {
                replica = sticky;
            }
        }
        if (replica == null) {
            replica = context.balancer().pick(topology, eligibility);
            if (replica == null && eligibility == causalEligibility) {
                // No replica is known to have the session's writes: ask one.
                replica = context.balancer().pick(topology, context.readEligibility());
                causalCheck = replica != null;
            }
            if (replica != null && !transactionPooling) {
                stickyReplica = replica.index();
            }
        }
        if (replica == null) {
            if ("error".equals(context.config().routing().fallback())) {
                throw new PgProtocolException(SqlState.CANNOT_CONNECT_NOW, "no replica is available for reads");
            }
            metrics.fallback();
            return primaryTarget(primary);
        }
        metrics.replicaRead(replica.index());
        return replica.index();
    }

    /** The primary for new work, counted in the primary gate; PARKED while there is none or the gate is closed. */
    private int primaryTarget(NodeStatus primary) {
        if (primary == null) {
            return PARKED;
        }
        if (!insideGate) {
            if (!context.primaryGate().tryEnter()) {
                return PARKED;
            }
            insideGate = true;
        }
        return primary.index();
    }

    /** Leaves the primary gate once nothing of the session is under way on the primary. */
    private void maybeLeaveGate() {
        if (insideGate && transactionStatus == TransactionStatus.IDLE && !extendedOpen && deferredBegin == null
                && inflight.isEmpty() && !causal.positionPending() && !blocked) {
            insideGate = false;
            context.primaryGate().exit();
        }
    }

    private long primaryWaitNanos() {
        return context.config().failover().clientWait().toNanos();
    }

    /**
     * Waits for a primary (failover) or for the primary gate to open (switchover): the client
     * sees a slow statement, not an error, unless the wait exceeds {@code failover.client-wait}.
     */
    private void park() {
        long now = System.nanoTime();
        if (parkDeadlineNanos == 0) {
            parkDeadlineNanos = now + primaryWaitNanos();
            if (!unit.proxySetting) {
                metrics.primaryWait();
            }
        } else if (now - parkDeadlineNanos >= 0) {
            parkDeadlineNanos = 0;
            failUnit(ErrorResponse.error(SqlState.CANNOT_CONNECT_NOW, context.primaryGate().isClosed()
                    ? "the primary is being switched over; please retry" : "no primary node is available"));
            return;
        }
        blocked = true;
        blockedTarget = PARKED;
        if (context.primaryGate().isClosed()) {
            context.primaryGate().await(() -> loop.execute(this::unpark));
        }
        // Polling also covers a primary appearing and a gate opening between the checks.
        loop.schedule(this::unpark, PARK_POLL_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    private void unpark() {
        if (!blocked || blockedTarget != PARKED || state != State.READY) {
            return;
        }
        blocked = false;
        blockedTarget = LOCAL;
        try {
            dispatch();
        } catch (RuntimeException e) {
            ClientErrors.handle(client, e);
            return;
        }
        if (!blocked) {
            parkDeadlineNanos = 0;
            flushBackend();
            drain();
            readClient();
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
        ensureNodeSlots(topology.nodes().size());
        NodeStatus primary = topology.primary();
        for (int i = 0; i < held.length; i++) {
            BackendConnection backend = held[i];
            if (backend == null || (primary != null && primary.index() == i)) {
                continue;
            }
            NodeStatus node = topology.node(i);
            boolean serves = node.role() == io.pgrelay.core.cluster.Role.REPLICA && node.isUp();
            if (serves || !backend.isIdle() || (backend == current && transactionStatus != TransactionStatus.IDLE)) {
                continue;
            }
            if (primary != null && node.role() != io.pgrelay.core.cluster.Role.REPLICA && session.pinned()
                    && backend.appliedSettings() != null) {
                throw new PgProtocolException(SqlState.ADMIN_SHUTDOWN, "the primary moved to " + primary.name()
                        + "; this session's temporary tables, LISTEN channels, advisory locks or held cursors "
                        + "stayed on " + node.name() + ": reconnect");
            }
            held[i] = null;
            if (current == backend) {
                current = null;
            }
            backend.close();
        }
    }

    private boolean causalSatisfied(NodeStatus node) {
        int index = node.index();
        long replay = node.replayLsn();
        if (index < confirmedReplay.length && confirmedTimeline[index] == node.timeline()
                && io.pgrelay.core.cluster.Lsn.compare(confirmedReplay[index], replay) > 0) {
            replay = confirmedReplay[index];
        }
        return causal.satisfiedBy(replay, node.timeline());
    }

    /** Asks the chosen replica how far it has replayed before sending it the unit. */
    private void startCausalCheck(BackendConnection backend, int target) {
        causalCheck = false;
        block(target);
        causalCheckResult = null;
        metrics.causalCheck();
        backend.writeInternalQuery("SELECT pg_last_wal_replay_lsn()", row -> causalCheckResult = row.get(0),
                (b, error) -> onCausalChecked(target, error));
        backend.flush();
    }

    private void onCausalChecked(int target, ErrorResponse error) {
        if (state != State.READY || !blocked || blockedTarget != target) {
            return;
        }
        NodeStatus node = context.cluster().current().node(target);
        boolean reached = false;
        if (error == null && causalCheckResult != null) {
            long replay = io.pgrelay.core.cluster.Lsn.parse(causalCheckResult);
            confirmedReplay[target] = replay;
            confirmedTimeline[target] = node.timeline();
            reached = causal.satisfiedBy(replay, node.timeline());
        }
        if (!reached) {
            primaryOnce = true;
            blockedTarget = REDECIDE;
        }
        resume();
    }

    private boolean defaultTransactionReadOnly() {
        return "on".equalsIgnoreCase(clientParameters.get("default_transaction_read_only"));
    }

    /** After a deferred BEGIN: may this first statement take the transaction to a replica? */
    private boolean deferredTransactionMayUseReplica() {
        for (SessionEffect command : unit.commands) {
            if (command instanceof SessionEffect.SetTransaction setTransaction) {
                return setTransaction.modes().readOnly();
            }
        }
        if (defaultTransactionReadOnly()) {
            return true;
        }
        return "first-statement".equals(context.config().routing().transactionReads())
                || session.routeOverride() == SessionState.RouteOverride.REPLICA;
    }

    /**
     * Transaction pooling: named Parse messages and a Sync outside a transaction (libpq's
     * PQprepare) are answered by pgrelay and prepared on a backend when first bound. Holding a
     * backend for them could deadlock clients that prepare synchronously (pgbench -M prepared
     * runs many clients per thread: one waiting for a backend stalls the others, which hold
     * backends in their transactions). Trade-off: an invalid statement is reported at its first
     * Bind instead of at Parse.
     */
    private boolean isLocalPrepare() {
        if (!transactionPooling || unit.terminator != 'S' || unit.parseNeedsServer || extendedOpen
                || transactionStatus != TransactionStatus.IDLE || deferredBegin != null || current != null) {
            return false;
        }
        List<ByteBuf> frames = unit.frames;
        for (int i = 0; i < frames.size() - 1; i++) {
            if (Wire.frameType(frames.get(i)) != 'P') {
                return false;
            }
        }
        return frames.size() > 1;
    }

    /** A simple Query that is only a BEGIN pgrelay understands fully. */
    private boolean isDeferrableBegin() {
        if (!unit.simpleQuery || unit.commands.size() != 1 || deferredBegin != null
                || transactionStatus != TransactionStatus.IDLE) {
            return false;
        }
        return unit.commands.get(0) instanceof SessionEffect.Begin begin
                && begin.modes().isolation() != io.pgrelay.core.classify.TransactionModes.Isolation.UNKNOWN
                && !unit.has(Trait.MULTI);
    }

    /** A simple Query ending a transaction that was never sent to a server. */
    private boolean endsDeferred() {
        return unit.simpleQuery && unit.commands.size() == 1
                && unit.commands.get(0) instanceof SessionEffect.EndTransaction end && !end.chain()
                && end.ending() != SessionEffect.Ending.PREPARE && !unit.has(Trait.MULTI);
    }

    private void sendUnit(int target) {
        BackendConnection backend = held[target];
        if (backend != null && !backend.isUsable()) {
            held[target] = null;
            backend = null;
        }
        if (current != null && current != backend && !current.isIdle()) {
            // Replies from another server are still coming: keep the order.
            block(target);
            return;
        }
        if (backend == null) {
            block(target);
            if (acquiringTarget != target) {
                acquire(target);
            }
            return;
        }
        if (causalCheck) {
            startCausalCheck(backend, target);
            return;
        }
        write(backend);
    }

    private void block(int target) {
        blocked = true;
        blockedTarget = target;
    }

    private void acquire(int target) {
        acquiringTarget = target;
        NodeStatus node = context.cluster().current().node(target);
        Future<BackendConnection> acquired = pool(node).acquire(loop);
        if (acquired.isDone()) {
            onAcquired(acquired, target);
        } else {
            acquired.addListener(done -> onAcquired(acquired, target));
        }
    }

    private void onAcquired(Future<BackendConnection> future, int target) {
        if (acquiringTarget == target) {
            acquiringTarget = LOCAL;
        }
        if (log.isDebugEnabled()) {
            log.debug("client {}: backend for node {}: {}", client.remoteAddress(), target,
                    future.isSuccess() ? future.getNow() : String.valueOf(future.cause()));
        }
        if (!future.isSuccess()) {
            if (state == State.CLOSED) {
                return;
            }
            Throwable cause = future.cause();
            if (!blocked || blockedTarget != target) {
                return;
            }
            if (!isPrimaryIndex(target) && blocked && blockedTarget == target
                    && !"error".equals(context.config().routing().fallback())) {
                // A replica that cannot be reached: the monitor will take it out; meanwhile the primary serves.
                log.info("client {}: replica {} unavailable ({}); reading from the primary", client.remoteAddress(),
                        context.cluster().current().node(target).name(), cause.getMessage());
                context.monitor().probeSoon(target);
                metrics.replicaFailure();
                primaryOnce = true;
                blockedTarget = REDECIDE;
                resume();
                return;
            }
            if (isPrimaryIndex(target) && unreachable(cause) && blocked
                    && blockedTarget == target) {
                // The primary is unreachable: wait (bounded) for it to come back or for a new one.
                context.monitor().probeSoon(target);
                blocked = false;
                blockedTarget = LOCAL;
                park();
                return;
            }
            ErrorResponse error = cause instanceof BackendStartupException startup
                    ? startup.error() : ErrorResponse.error(SqlState.CONNECTION_FAILURE, String.valueOf(cause.getMessage()));
            failUnit(ErrorResponse.error(error.sqlState(), error.message()));
            return;
        }
        BackendConnection backend = future.getNow();
        if (state == State.CLOSED || held[target] != null) {
            backend.recycle(context.config().pool().resetQuery());
            return;
        }
        if (isPrimaryIndex(target) && backend.isHotStandby()) {
            // Writes never go to a server in recovery, whatever the monitor last saw.
            log.warn("{} reports in_hot_standby=on although it was taken for the primary", backend);
            backend.close();
            distrustPrimary(target);
            blocked = false;
            blockedTarget = LOCAL;
            park();
            return;
        }
        held[target] = backend;
        backend.attach(this);
        resume();
    }

    /** Continues with the blocked unit, then with whatever the client sent meanwhile. */
    private void resume() {
        if (!blocked || state != State.READY) {
            return;
        }
        blocked = false;
        int target = blockedTarget;
        blockedTarget = LOCAL;
        try {
            if (target == REDECIDE) {
                dispatch();
            } else if (target == PARKED) {
                // Something the unit waits for may have changed (a position learned): try again.
                blocked = true;
                blockedTarget = PARKED;
                unpark();
                return;
            } else {
                sendUnit(target);
            }
        } catch (RuntimeException e) {
            ClientErrors.handle(client, e);
            return;
        }
        if (!blocked) {
            drain();
            readClient();
        }
    }

    /** The unit cannot be served: the client gets an error in place of the replies. */
    private void failUnit(ErrorResponse error) {
        blocked = false;
        blockedTarget = LOCAL;
        boolean needsReady = unit.terminator == 'Q' || unit.terminator == 'S' || unit.terminator == 'F';
        unit.release();
        extendedOpen = false;
        LocalAnswers answers = new LocalAnswers(client.alloc()).message(error);
        if (needsReady) {
            answers.ready(transactionStatus);
        }
        client.writeAndFlush(answers.buffer(), client.voidPromise());
        drain();
        readClient();
    }

    private void write(BackendConnection backend) {
        boolean retryable = retryable(backend);
        if (current != backend) {
            current = backend;
        }
        if (causal.causal() && !wroteSinceIdle && unit.primaryOnly && isPrimary(backend)) {
            wroteSinceIdle = true;
        }
        String deferred = deferredBegin;
        if (deferred != null) {
            deferredBegin = null;
            session.settings.beginTransaction();
        }
        prepareSettings(backend, this::onReplayDone);
        if (deferred != null) {
            backend.writeInternalQuery(deferred, this::onReplayDone);
        }
        prepareSqlStatements(backend);
        List<ByteBuf> frames = unit.frames;
        long sent = 0;
        for (int i = 0; i < frames.size(); i++) {
            ByteBuf frame = frames.get(i);
            sent += frame.readableBytes();
            byte type = Wire.frameType(frame);
            String name = unit.names.get(i);
            if (name != null) {
                prepareStatementFor(backend, type, name, frame);
            }
            if (retryable) {
                retryFrames.add(frame.retain());
            }
            backend.writeClientFrame(frame);
        }
        if (unit.terminator != 'H') {
            unitTimer.sent();
            inflight.addLast(unit.commands.isEmpty() ? (unit.has(Trait.DDL) ? SCHEMA_CHANGE : List.of())
                    : new ArrayList<>(unit.commands));
            if (unit.has(Trait.DDL) && !unit.commands.isEmpty()) {
                classifier.schemaChanged();
            }
        }
        applyAtSend(backend);
        extendedOpen = unit.terminator == 'H' || (extendedOpen && unit.terminator != 'S' && unit.terminator != 'Q');
        if (retryable) {
            backend.holdUntilResult();
        }
        metrics.statementRouted(backend.nodeIndex(), unit.primaryOnly ? Route.PRIMARY : Route.REPLICA,
                unit.kind != null ? unit.kind : io.pgrelay.core.classify.StatementKind.OTHER);
        metrics.bytesSent(backend.nodeIndex(), sent);
        if (registration != null) {
            registration.node(backend.key().nodeName());
            registration.active(true);
        }
        unit.clear();
        backendNeedsFlush = true;
    }

    /** Whether a replica's refusal of this unit can be hidden by running it on the primary. */
    private boolean retryable(BackendConnection backend) {
        NodeStatus node = context.cluster().current().node(backend.nodeIndex());
        return node.role() == io.pgrelay.core.cluster.Role.REPLICA && transactionStatus == TransactionStatus.IDLE
                && deferredBegin == null && !extendedOpen && !unit.begins
                && !unit.has(Trait.COPY_FROM_STDIN) && unit.terminator != 'H' && retryFrames.isEmpty();
    }

    /** Brings the backend's settings to this session's, unless they already match. Returns whether it wrote. */
    private boolean prepareSettings(BackendConnection backend, io.pgrelay.core.backend.InternalQueryCallback done) {
        String wanted = session.settings.stateKey();
        String applied = backend.appliedSettings();
        if (wanted.equals(applied)) {
            return false;
        }
        String sql = applied.equals(BackendConnection.PRISTINE) ? wanted
                : wanted.isEmpty() ? SessionSettings.RESET_SQL : SessionSettings.RESET_SQL + "; " + wanted;
        backend.appliedSettings(wanted);
        backend.writeInternalQuery(sql, done);
        return true;
    }

    private void onReplayDone(BackendConnection backend, ErrorResponse error) {
        if (error != null && state != State.CLOSED) {
            log.warn("client {}: could not re-establish session state on {}: {}", client.remoteAddress(), backend,
                    error.message());
            backend.appliedSettings(BackendConnection.UNKNOWN_SETTINGS);
        }
    }

    /** SQL-level prepared statements an EXECUTE / DEALLOCATE / PREPARE in the unit needs (or must replace) on this backend. */
    private void prepareSqlStatements(BackendConnection backend) {
        for (SessionEffect command : unit.commands) {
            String name;
            if (command instanceof SessionEffect.Execute execute) {
                name = execute.name();
            } else if (command instanceof SessionEffect.Deallocate deallocate && deallocate.name() != null) {
                name = deallocate.name();
            } else if (command instanceof SessionEffect.Prepare prepare) {
                if (backend.preparedStatements().remove(sqlKey(prepare.name())) != null) {
                    backend.writeInternalQuery("DEALLOCATE " + quoteIdent(prepare.name()), this::onReplayDone);
                }
                continue;
            } else {
                continue;
            }
            SessionState.SqlPrepared prepared = session.sqlPrepared(name);
            Object present = backend.preparedStatements().get(sqlKey(name));
            if (prepared == null || prepared.equals(present)) {
                continue;
            }
            if (present != null) {
                backend.writeInternalQuery("DEALLOCATE " + quoteIdent(name), this::onReplayDone);
            }
            backend.writeInternalQuery(prepared.prepareSql(), this::onReplayDone);
            backend.preparedStatements().put(sqlKey(name), prepared);
        }
    }

    private static String sqlKey(String name) {
        return "sql:" + name.toLowerCase(java.util.Locale.ROOT);
    }

    private static String quoteIdent(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }

    /**
     * Makes sure the protocol-level statement a frame refers to exists on this backend as the
     * session knows it, inserting a Close and/or Parse of pgrelay's own in front when not.
     */
    private void prepareStatementFor(BackendConnection backend, byte type, String name, ByteBuf frame) {
        Map<String, Object> onBackend = backend.preparedStatements();
        switch (type) {
            case 'P' -> {
                if (!name.isEmpty() && onBackend.containsKey(name)) {
                    backend.writeInsertedMessage(Close.statement(name), Close.TYPE);
                }
                SessionState.PreparedStatement statement = name.isEmpty() ? null : session.statement(name);
                onBackend.put(name, statement != null ? statement.identity() : this);
            }
            case 'B', 'D' -> {
                if (name.isEmpty()) {
                    return;
                }
                SessionState.PreparedStatement statement = session.statement(name);
                if (statement == null || statement.identity().equals(onBackend.get(name))) {
                    return;
                }
                if (onBackend.containsKey(name)) {
                    backend.writeInsertedMessage(Close.statement(name), Close.TYPE);
                }
                backend.writeInsertedMessage(statement.identity().toParse(), io.pgrelay.protocol.message.frontend.Parse.TYPE);
                onBackend.put(name, statement.identity());
            }
            case 'C' -> {
                onBackend.remove(name);
                session.removeStatement(name);
            }
            default -> {
            }
        }
    }

    /** Session effects that hold from the moment the statement is sent (pins are conservative). */
    private void applyAtSend(BackendConnection backend) {
        for (SessionEffect command : inflightCommandsJustSent()) {
            if (command instanceof SessionEffect.CreateTemporaryObject) {
                session.pin(SessionState.PIN_TEMP);
            } else if (command instanceof SessionEffect.Listen listen) {
                session.listen(listen.channel());
            } else if (command instanceof SessionEffect.TakeAdvisoryLock) {
                session.pin(SessionState.PIN_ADVISORY);
            } else if (command instanceof SessionEffect.DeclareCursor cursor && cursor.withHold()) {
                session.declareHoldCursor(cursor.name());
            } else if (command instanceof SessionEffect.UntrackedSetting) {
                session.pin(SessionState.PIN_UNTRACKED);
            } else if (command instanceof SessionEffect.Prepare prepare) {
                SessionState.SqlPrepared prepared = new SessionState.SqlPrepared(prepare.name(), prepare.replaySql(),
                        prepare.statement().route() == Route.PRIMARY);
                session.putSqlPrepared(prepared);
                backend.preparedStatements().put(sqlKey(prepare.name()), prepared);
            }
        }
    }

    private List<SessionEffect> inflightCommandsJustSent() {
        return unit.commands;
    }

    // ---------------------------------------------------------------- local answers

    /** Answers a unit pgrelay handles itself: its own settings, a deferred BEGIN, the end of a deferred transaction. */
    private void answerLocally() {
        metrics.statementLocal(unit.kind != null ? unit.kind
                : io.pgrelay.core.classify.StatementKind.OTHER);
        boolean simple = unit.simpleQuery;
        LocalAnswers answers = simple ? new LocalAnswers(client.alloc()) : null;
        ErrorResponse error = null;
        boolean aborted = abortedLocally;
        if (aborted) {
            boolean ends = !unit.commands.isEmpty();
            boolean commits = false;
            for (SessionEffect command : unit.commands) {
                ends &= command instanceof SessionEffect.EndTransaction;
                commits |= command instanceof SessionEffect.EndTransaction end
                        && end.ending() != SessionEffect.Ending.ROLLBACK;
            }
            if (ends) {
                abortedLocally = false;
                transactionStatus = TransactionStatus.IDLE;
                session.settings.endTransaction(false);
                if (commits && abortReason != null) {
                    // Never let a COMMIT look successful for a transaction the client was not told it lost.
                    error = ErrorResponse.error(SqlState.CONNECTION_FAILURE, "the database server running this "
                            + "transaction was lost (" + abortReason + "); the transaction was not committed");
                } else if (simple) {
                    answers.commandComplete("ROLLBACK");
                }
                abortReason = null;
            } else if (abortReason != null) {
                error = ErrorResponse.error(SqlState.CONNECTION_FAILURE, "the database server running this "
                        + "transaction was lost (" + abortReason + "); the transaction is rolled back: end it and retry");
                abortReason = null;
            } else {
                error = ErrorResponse.error(SqlState.IN_FAILED_SQL_TRANSACTION,
                        "current transaction is aborted, commands ignored until end of transaction block");
            }
        }
        for (SessionEffect command : aborted || error != null ? List.<SessionEffect>of() : unit.commands) {
            if (error != null) {
                break;
            }
            if (command instanceof SessionEffect.ProxySetting setting) {
                error = proxySetting(setting, answers, simple);
            } else if (command instanceof SessionEffect.Begin begin) {
                deferredBegin = begin.modes().beginSql();
                deferredBeginReadOnly = begin.modes().readOnly();
                transactionStatus = TransactionStatus.IN_TRANSACTION;
                if (simple) {
                    answers.commandComplete("BEGIN");
                }
            } else if (command instanceof SessionEffect.EndTransaction end) {
                deferredBegin = null;
                transactionStatus = TransactionStatus.IDLE;
                if (simple) {
                    answers.commandComplete(end.ending().tag());
                }
            } else {
                error = ErrorResponse.error(SqlState.FEATURE_NOT_SUPPORTED,
                        "pgrelay settings must be set in statements of their own");
            }
        }
        if (!simple) {
            abortedAnswer = aborted;
            answers = extendedLocalAnswers(error);
            abortedAnswer = false;
        } else {
            if (error != null) {
                answers.message(error);
            }
            answers.ready(transactionStatus);
        }
        unit.release();
        client.write(answers.buffer(), client.voidPromise());
        client.flush();
        maybeLeaveGate();
    }

    /** The same for an extended-protocol unit: one reply per message, as a server would send. */
    private LocalAnswers extendedLocalAnswers(ErrorResponse error) {
        LocalAnswers answers = new LocalAnswers(client.alloc());
        boolean failed = false;
        int command = 0;
        for (ByteBuf frame : unit.frames) {
            byte type = Wire.frameType(frame);
            if (failed && type != 'S') {
                continue;
            }
            switch (type) {
                case 'P' -> answers.parseComplete();
                case 'B' -> answers.bindComplete();
                case 'D' -> {
                    if (frame.getByte(frame.readerIndex() + Wire.HEADER_LENGTH) == 'S') {
                        answers.noParameters();
                    }
                    SessionEffect next = command < unit.commands.size() ? unit.commands.get(command) : null;
                    if (next instanceof SessionEffect.ProxySetting setting
                            && setting.op() == SessionEffect.ProxySettingOp.SHOW) {
                        answers.rowDescription(setting.name());
                    } else {
                        answers.noData();
                    }
                }
                case 'E' -> {
                    SessionEffect next = command < unit.commands.size() ? unit.commands.get(command++) : null;
                    if (error != null) {
                        answers.message(error);
                        failed = true;
                    } else if (next instanceof SessionEffect.ProxySetting setting) {
                        if (setting.op() == SessionEffect.ProxySettingOp.SHOW) {
                            answers.dataRow(proxySettingValue(setting.name()));
                            answers.commandComplete("SHOW");
                        } else {
                            answers.commandComplete(setting.value() == null ? "RESET" : "SET");
                        }
                    } else if (next instanceof SessionEffect.Begin) {
                        answers.commandComplete("BEGIN");
                    } else if (next instanceof SessionEffect.EndTransaction end) {
                        answers.commandComplete(abortedAnswer ? "ROLLBACK" : end.ending().tag());
                    }
                }
                case 'C' -> answers.closeComplete();
                case 'S' -> {
                    answers.ready(transactionStatus);
                    failed = false;
                }
                default -> {
                }
            }
        }
        return answers;
    }

    private ErrorResponse proxySetting(SessionEffect.ProxySetting setting, LocalAnswers answers, boolean simple) {
        String name = setting.name();
        if (setting.op() == SessionEffect.ProxySettingOp.SHOW) {
            String value = proxySettingValue(name);
            if (value == null) {
                return unknownSetting(name);
            }
            if (simple) {
                answers.showRow(name, value);
            }
            return null;
        }
        ErrorResponse error = setProxySetting(name, setting.value());
        if (error == null && simple) {
            answers.commandComplete(setting.value() == null ? "RESET" : "SET");
        }
        return error;
    }

    private static ErrorResponse unknownSetting(String name) {
        return ErrorResponse.error(SqlState.UNDEFINED_OBJECT, "unrecognized configuration parameter \"" + name + "\"");
    }

    /** The session's pgrelay settings; {@code value} null resets to the default. */
    private ErrorResponse setProxySetting(String name, String value) {
        switch (name) {
            case "pgrelay.route" -> {
                SessionState.RouteOverride override = value == null ? SessionState.RouteOverride.AUTO : parseRoute(value);
                if (override == null) {
                    return invalidValue(name, value, "primary | replica | auto");
                }
                session.routeOverride(override);
            }
            case "pgrelay.consistency" -> {
                String mode = value == null ? context.config().routing().consistency()
                        : value.trim().toLowerCase(java.util.Locale.ROOT);
                if (!mode.equals("causal") && !mode.equals("eventual")) {
                    return invalidValue(name, value, "causal | eventual");
                }
                causal.causal(mode.equals("causal"));
            }
            case "pgrelay.min_lsn" -> {
                if (value != null) {
                    long lsn;
                    try {
                        lsn = io.pgrelay.core.cluster.Lsn.parse(value.trim());
                    } catch (IllegalArgumentException e) {
                        return invalidValue(name, value, "a WAL position such as 0/3000060");
                    }
                    NodeStatus primary = context.cluster().current().primary();
                    causal.require(lsn, primary != null ? primary.timeline() : 0);
                }
            }
            case "pgrelay.last_lsn" -> {
                return ErrorResponse.error(SqlState.CANT_CHANGE_RUNTIME_PARAM,
                        "parameter \"pgrelay.last_lsn\" cannot be changed");
            }
            default -> {
                return unknownSetting(name);
            }
        }
        return null;
    }

    private static ErrorResponse invalidValue(String name, String value, String allowed) {
        return ErrorResponse.error(SqlState.INVALID_PARAMETER_VALUE, "invalid value for parameter \"" + name
                + "\": \"" + value + "\" (" + allowed + ")");
    }

    private String proxySettingValue(String name) {
        return switch (name) {
            case "pgrelay.route" -> session.routeOverride().name().toLowerCase(java.util.Locale.ROOT);
            case "pgrelay.consistency" -> causal.causal() ? "causal" : "eventual";
            case "pgrelay.min_lsn" -> io.pgrelay.core.cluster.Lsn.format(causal.requiredLsn());
            case "pgrelay.last_lsn" -> io.pgrelay.core.cluster.Lsn.format(causal.lastLsn());
            default -> null;
        };
    }

    private static SessionState.RouteOverride parseRoute(String value) {
        return switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "primary" -> SessionState.RouteOverride.PRIMARY;
            case "replica" -> SessionState.RouteOverride.REPLICA;
            case "auto", "default" -> SessionState.RouteOverride.AUTO;
            default -> null;
        };
    }

    // ---------------------------------------------------------------- backend -> client

    @Override
    public void onBackendData(BackendConnection backend, ByteBuf bytes) {
        metrics.bytesReceived(backend.nodeIndex(), bytes.readableBytes());
        client.write(bytes, client.voidPromise());
    }

    @Override
    public void onBackendParameter(BackendConnection backend, String name, String value) {
        clientParameters.put(name, value);
    }

    @Override
    public void onBackendReadComplete(BackendConnection backend) {
        client.flush();
        if (client.isWritable()) {
            backend.requestRead();
        } else {
            backendReadPaused = true;
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (client.isWritable() && backendReadPaused) {
            backendReadPaused = false;
            for (BackendConnection backend : held) {
                if (backend != null) {
                    backend.requestRead();
                }
            }
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void onBackendReady(BackendConnection backend, TransactionStatus status, boolean idle) {
        TransactionStatus before = transactionStatus;
        transactionStatus = status;
        releaseRetryFrames();
        List<SessionEffect> commands = inflight.pollFirst();
        unitTimer.completed(metrics);
        if (registration != null) {
            registration.transactionStatus(status);
            registration.active(!idle);
        }
        if (commands == SCHEMA_CHANGE) {
            classifier.schemaChanged();
            commands = List.of();
        }
        if (commands != null && !commands.isEmpty()) {
            applyCompleted(commands, backend, before, status);
        } else if (before != TransactionStatus.IDLE && status == TransactionStatus.IDLE) {
            session.settings.endTransaction(before == TransactionStatus.IN_TRANSACTION);
        }
        if (wroteSinceIdle && status == TransactionStatus.IDLE && idle && !extendedOpen && isPrimary(backend)) {
            wroteSinceIdle = false;
            learnPosition(backend);
            return;
        }
        if (idle) {
            maybeRelease(backend);
            maybeLeaveGate();
            if (blocked) {
                resume();
            }
        }
    }

    /**
     * Read-your-writes: once a write has committed, the primary's WAL insert position covers
     * it. Asked after the client already has its ReadyForQuery; until the answer arrives the
     * session's reads go to the primary.
     */
    private void learnPosition(BackendConnection backend) {
        causal.writeCommitted();
        positionResult = null;
        int timeline = context.cluster().current().node(backend.nodeIndex()).timeline();
        backend.writeInternalQuery("SELECT pg_current_wal_insert_lsn()", row -> positionResult = row.get(0),
                (b, error) -> {
                    if (error == null && positionResult != null) {
                        causal.wrote(io.pgrelay.core.cluster.Lsn.parse(positionResult), timeline);
                    } else {
                        causal.writeUnknown();
                    }
                    if (state != State.READY) {
                        return;
                    }
                    if (b.isIdle()) {
                        maybeRelease(b);
                        maybeLeaveGate();
                    }
                    if (blocked) {
                        resume();
                    }
                });
        backend.flush();
    }

    /** Applies the session commands of a unit that completed (failed units change nothing). */
    private void applyCompleted(List<SessionEffect> commands, BackendConnection backend, TransactionStatus before,
                                TransactionStatus after) {
        boolean failed = after == TransactionStatus.FAILED || backend.lastUnitFailed();
        boolean rolledBack = false;
        if (before == TransactionStatus.IDLE && after != TransactionStatus.IDLE) {
            session.settings.beginTransaction();
        }
        boolean inTransaction = after != TransactionStatus.IDLE;
        long versionBefore = session.settings.version();
        for (SessionEffect command : commands) {
            if (command instanceof SessionEffect.EndTransaction end) {
                rolledBack |= end.ending() == SessionEffect.Ending.ROLLBACK;
            }
            if (failed) {
                continue;
            }
            if (command instanceof SessionEffect.SetSetting set && set.scope() == SessionEffect.Scope.SESSION
                    || command instanceof SessionEffect.ResetSetting reset && reset.scope() == SessionEffect.Scope.SESSION
                    || command instanceof SessionEffect.ResetAll) {
                session.settings.apply(command, inTransaction);
                if (command instanceof SessionEffect.ResetSetting reset && session.settings.isStartupSetting(reset.name())
                        || command instanceof SessionEffect.ResetAll) {
                    // The server reset it to its own default, not to the client's startup value.
                    backend.appliedSettings(BackendConnection.UNKNOWN_SETTINGS);
                }
            } else if (command instanceof SessionEffect.Discard discard) {
                if (discard.scope() == SessionEffect.DiscardScope.ALL) {
                    session.discardAll();
                    session.settings.apply(new SessionEffect.ResetAll(), false);
                    backend.preparedStatements().clear();
                    backend.appliedSettings(BackendConnection.UNKNOWN_SETTINGS);
                } else if (discard.scope() == SessionEffect.DiscardScope.TEMP) {
                    session.unpin(SessionState.PIN_TEMP);
                }
            } else if (command instanceof SessionEffect.Unlisten unlisten) {
                session.unlisten(unlisten.channel());
            } else if (command instanceof SessionEffect.ReleaseAdvisoryLocks unlock && unlock.all()) {
                session.unpin(SessionState.PIN_ADVISORY);
            } else if (command instanceof SessionEffect.CloseCursor close) {
                session.closeCursor(close.name());
            } else if (command instanceof SessionEffect.Deallocate deallocate) {
                session.removeSqlPrepared(deallocate.name());
                if (deallocate.name() == null) {
                    backend.preparedStatements().clear();
                } else {
                    backend.preparedStatements().remove(sqlKey(deallocate.name()));
                }
            }
        }
        if (session.settings.version() != versionBefore
                && !BackendConnection.UNKNOWN_SETTINGS.equals(backend.appliedSettings())) {
            backend.appliedSettings(session.settings.stateKey());
        }
        if (before != TransactionStatus.IDLE && after == TransactionStatus.IDLE) {
            session.settings.endTransaction(before == TransactionStatus.IN_TRANSACTION && !rolledBack);
        }
    }

    /** Transaction pooling: backends go back to their pools as soon as the client no longer needs them. */
    private void maybeRelease(BackendConnection completed) {
        if (!transactionPooling || transactionStatus != TransactionStatus.IDLE || extendedOpen
                || deferredBegin != null) {
            return;
        }
        boolean flushed = false;
        for (int i = 0; i < held.length; i++) {
            BackendConnection backend = held[i];
            if (backend == null || !backend.isIdle() || (blocked && blockedTarget == i)
                    || (session.pinned() && isPrimary(backend))) {
                continue;
            }
            held[i] = null;
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

    private boolean isPrimary(BackendConnection backend) {
        NodeStatus primary = context.cluster().current().primary();
        return primary != null && primary.index() == backend.nodeIndex();
    }

    @Override
    public void onBackendRetry(BackendConnection backend) {
        // A replica refused the statement before the client saw anything: run it on the primary.
        metrics.replicaRetry();
        unitTimer.dropOldest();
        maybeRelease(backend);
        rerunOnPrimary(true);
    }

    /** Runs the unit a replica could not serve again on the primary; {@code remember}: as a write from now on. */
    private void rerunOnPrimary(boolean remember) {
        List<ByteBuf> frames = new ArrayList<>(retryFrames);
        retryFrames.clear();
        if (frames.isEmpty() || state != State.READY) {
            frames.forEach(ByteBuf::release);
            return;
        }
        if (remember) {
            rememberPrimary(frames);
        }
        if (unit.isEmpty() && !blocked) {
            for (ByteBuf frame : frames) {
                unit.add(frame, namesOf(frame));
            }
            unit.terminator = Wire.frameType(frames.get(frames.size() - 1)) == 'Q' ? (byte) 'Q' : (byte) 'S';
            unit.simpleQuery = Wire.frameType(frames.get(0)) == 'Q';
            List<SessionEffect> commands = inflight.pollFirst();
            if (commands != null) {
                unit.commands.addAll(commands);
            }
            int target = primaryTarget(context.cluster().current().primary());
            if (target == PARKED) {
                park();
                return;
            }
            sendUnit(target);
            flushBackend();
        } else {
            // More of the client's work is queued behind it: answer with an error rather than reorder.
            frames.forEach(ByteBuf::release);
            log.warn("client {}: could not re-run a statement a replica could not serve", client.remoteAddress());
            failInFlight("the replica could not serve it");
        }
    }

    private String namesOf(ByteBuf frame) {
        byte type = Wire.frameType(frame);
        return switch (type) {
            case 'P' -> {
                int body = frame.readerIndex() + Wire.HEADER_LENGTH;
                int nameEnd = frame.forEachByte(body, frame.writerIndex() - body, ByteProcessor.FIND_NUL);
                yield frame.toString(body, nameEnd - body, StandardCharsets.UTF_8);
            }
            case 'B' -> statementNameOfBind(frame);
            case 'D', 'C' -> frame.getByte(frame.readerIndex() + Wire.HEADER_LENGTH) == 'S'
                    ? frame.toString(frame.readerIndex() + Wire.HEADER_LENGTH + 1,
                    frame.readableBytes() - Wire.HEADER_LENGTH - 2, StandardCharsets.UTF_8) : null;
            default -> null;
        };
    }

    private void rememberPrimary(List<ByteBuf> frames) {
        for (ByteBuf frame : frames) {
            byte type = Wire.frameType(frame);
            if (type == 'Q') {
                classifier.rememberPrimary(frame, frame.readerIndex() + Wire.HEADER_LENGTH,
                        frame.readableBytes() - Wire.HEADER_LENGTH - 1, standardConformingStrings());
            } else if (type == 'P') {
                int body = frame.readerIndex() + Wire.HEADER_LENGTH;
                int nameEnd = frame.forEachByte(body, frame.writerIndex() - body, ByteProcessor.FIND_NUL);
                int sqlEnd = frame.forEachByte(nameEnd + 1, frame.writerIndex() - nameEnd - 1, ByteProcessor.FIND_NUL);
                classifier.rememberPrimary(frame, nameEnd + 1, sqlEnd - nameEnd - 1, standardConformingStrings());
            }
        }
    }

    private void releaseRetryFrames() {
        if (!retryFrames.isEmpty()) {
            for (ByteBuf frame : retryFrames) {
                frame.release();
            }
            retryFrames.clear();
        }
    }

    @Override
    public void onBackendWritabilityChanged(BackendConnection backend, boolean writable) {
        if (writable && clientReadPaused && backend == current && state == State.READY) {
            clientReadPaused = false;
            ctx.read();
        }
    }

    @Override
    public void onBackendClosed(BackendConnection backend, String reason) {
        int index = backend.nodeIndex();
        if (held[index] == backend) {
            held[index] = null;
        }
        boolean wasBusy = backend == current && (!inflight.isEmpty() || transactionStatus != TransactionStatus.IDLE
                || extendedOpen);
        if (backend == current) {
            current = null;
            unitTimer.clear();
            if (registration != null) {
                registration.node(null);
            }
        }
        if (state == State.CLOSED) {
            return;
        }
        if (wasBusy && !retryFrames.isEmpty() && backend.repliesHeld() && !isPrimaryIndex(index)) {
            // A replica died before any reply reached the client: the primary runs the unit.
            log.info("client {}: {} closed during a read ({}); re-running it on the primary", client.remoteAddress(),
                    backend, reason);
            context.monitor().probeSoon(index);
            metrics.replicaFailure();
            rerunOnPrimary(false);
            return;
        }
        if (isPrimaryIndex(index) && session.pinned()) {
            fatal(SqlState.CONNECTION_FAILURE, "the connection to the database server was lost: " + reason);
        } else if (wasBusy) {
            failInFlight(reason);
        } else if (blocked) {
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
        boolean inTransaction = transactionStatus != TransactionStatus.IDLE;
        int outstanding = inflight.size();
        inflight.clear();
        releaseRetryFrames();
        extendedOpen = false;
        wroteSinceIdle = false;
        if (causal.positionPending()) {
            causal.writeUnknown();
        }
        context.monitor().probeSoon(context.cluster().current().primary() != null
                ? context.cluster().current().primary().index() : 0);
        if (inTransaction) {
            abortedLocally = true;
            transactionStatus = TransactionStatus.FAILED;
        }
        if (outstanding == 0) {
            // Nothing sent is unanswered: the client learns of the loss with its next statement.
            abortReason = inTransaction ? reason : null;
        } else {
            LocalAnswers answers = new LocalAnswers(client.alloc());
            for (int i = 0; i < outstanding; i++) {
                answers.message(ErrorResponse.error(SqlState.CONNECTION_FAILURE, "the database server running this "
                        + (inTransaction ? "transaction" : "statement") + " was lost (" + reason + ")"
                        + (inTransaction ? "; the transaction is rolled back: end it and retry" : "; retry")));
                answers.ready(transactionStatus);
            }
            client.writeAndFlush(answers.buffer(), client.voidPromise());
        }
        maybeLeaveGate();
        if (blocked) {
            // A unit waiting for this server (or behind it) is routed afresh: locally when the
            // transaction is now aborted, else to wherever it can run now.
            blockedTarget = REDECIDE;
            resume();
        } else {
            drain();
            readClient();
        }
    }

    private boolean isPrimaryIndex(int index) {
        NodeStatus primary = context.cluster().current().primary();
        return primary == null || primary.index() == index;
    }

    // ---------------------------------------------------------------- flow control

    private void flushBackend() {
        if (backendNeedsFlush) {
            backendNeedsFlush = false;
            if (current != null) {
                current.flush();
            }
        }
    }

    /** Reads more from the client only while nothing waits and the backend can take it. */
    private void readClient() {
        if (state != State.READY || blocked || !waiting.isEmpty()) {
            return;
        }
        if (current != null && !current.channel().isWritable()) {
            clientReadPaused = true;
        } else {
            clientReadPaused = false;
            ctx.read();
        }
    }

    private BackendPool pool(NodeStatus node) {
        BackendPool pool = pools[node.index()];
        if (pool == null) {
            pool = context.pools().pool(node, backendUser, database, backendPassword);
            pools[node.index()] = pool;
        }
        return pool;
    }

    // ---------------------------------------------------------------- cancel

    @Override
    public void cancelRequested() {
        loop.execute(() -> {
            BackendConnection backend = current;
            if (backend != null && !backend.isIdle() && backend.isUsable()) {
                InetSocketAddress address = backend.remoteAddress();
                context.cancelSender().send(loop, address.getHostString(), address.getPort(), backend.processId(),
                        backend.secretKey());
            }
        });
    }

    // ---------------------------------------------------------------- end of session

    private void fatal(String sqlState, String message) {
        if (state == State.CLOSED) {
            return;
        }
        ClientErrors.fatal(client, sqlState, message);
    }

    private void close() {
        cleanup();
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cleanup();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cleanup();
    }

    private void cleanup() {
        if (state == State.CLOSED) {
            return;
        }
        state = State.CLOSED;
        context.cancels().unregister(cancelKey);
        ByteBuf frame;
        while ((frame = waiting.pollFirst()) != null) {
            frame.release();
        }
        unit.release();
        releaseRetryFrames();
        if (insideGate) {
            insideGate = false;
            context.primaryGate().exit();
        }
        for (int i = 0; i < held.length; i++) {
            BackendConnection backend = held[i];
            held[i] = null;
            if (backend == null) {
                continue;
            }
            if (backend == current && extendedOpen) {
                backend.close();
            } else {
                backend.recycle(context.config().pool().resetQuery());
            }
        }
        current = null;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ClientErrors.handle(ctx.channel(), cause);
    }

    public TransactionStatus transactionStatus() {
        return transactionStatus;
    }
}
