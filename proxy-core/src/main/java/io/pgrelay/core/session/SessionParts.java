package io.pgrelay.core.session;

import io.pgrelay.core.backend.BackendConnection;
import io.pgrelay.core.cluster.NodeStatus;
import io.pgrelay.core.metrics.ProxyMetrics;
import io.pgrelay.core.route.PrimaryGate;

import java.net.InetSocketAddress;
import java.util.Map;

/**
 * The parts of one session and the shared services they use, put together once per client by
 * {@link ClientSession}: the session's state (settings, objects, transaction, causal tracking,
 * pgrelay settings), its backends and router, and the few configuration values it reads.
 */
final class SessionParts {
    private final SessionFactory shared;
    private final SessionCluster cluster;
    private final Router router;
    private final HeldBackends backends;
    private final SessionSettings settings;
    private final SessionObjects objects = new SessionObjects();
    private final CausalTracker causal;
    private final GlobalRead global;
    private final TransactionState transaction = new TransactionState();
    private final ProxySettings proxySettings;
    private final SessionClassifier classifier;
    private ClientRegistry.Entry registration;
    private final int processId;
    private final LocalAnswerer.Signals signals;
    /** What the client was told of the server's parameters (ParameterStatus), case-insensitive names. */
    private final ClientParameters clientParameters = new ClientParameters();

    SessionParts(SessionFactory shared, String backendUser, String database, String backendPassword,
                 Map<String, String> startupSettings, int processId, LocalAnswerer.Signals signals) {
        this.shared = shared;
        this.cluster = new SessionCluster(shared.cluster, shared.monitor,
                shared.config.monitor().banTime().toMillis());
        int nodes = shared.cluster.current().nodes().size();
        this.router = new Router(shared.config.routing(), shared.transactionPooling, shared.balancer,
                shared.readEligibility);
        this.backends = new HeldBackends(shared.pools, backendUser, database, backendPassword, nodes);
        this.settings = new SessionSettings(startupSettings);
        Consistency consistency = Consistency.parse(shared.config.routing().consistency());
        CausalState causalState = new CausalState(consistency);
        this.causal = new CausalTracker(causalState, shared.replayPositions);
        this.global = new GlobalRead(causalState, shared.primaryPosition,
                shared.config.routing().globalWait().toNanos());
        this.proxySettings = new ProxySettings(consistency, causalState, () -> {
            NodeStatus primary = shared.cluster.current().primary();
            return primary != null ? primary.timeline() : 0;
        });
        this.classifier = shared.classifiers.forDatabase(database);
        this.processId = processId;
        this.signals = signals;
    }

    SessionCluster cluster() {
        return cluster;
    }

    Router router() {
        return router;
    }

    HeldBackends backends() {
        return backends;
    }

    SessionSettings settings() {
        return settings;
    }

    SessionObjects objects() {
        return objects;
    }

    CausalTracker causal() {
        return causal;
    }

    GlobalRead global() {
        return global;
    }

    TransactionState transaction() {
        return transaction;
    }

    ProxySettings proxySettings() {
        return proxySettings;
    }

    io.pgrelay.core.route.ReplicaBalancer balancer() {
        return shared.balancer;
    }

    SessionClassifier classifier() {
        return classifier;
    }

    ProxyMetrics metrics() {
        return shared.metrics;
    }

    PrimaryGate gate() {
        return shared.gate;
    }

    /** This client in the console's SHOW CLIENTS; null in handler tests that skip the login. */
    ClientRegistry.Entry registration() {
        return registration;
    }

    void registration(ClientRegistry.Entry entry) {
        this.registration = entry;
    }

    int processId() {
        return processId;
    }

    LocalAnswerer.Signals signals() {
        return signals;
    }

    ClientParameters clientParameters() {
        return clientParameters;
    }

    boolean standardConformingStrings() {
        return clientParameters.standardConformingStrings();
    }

    boolean transactionPooling() {
        return shared.transactionPooling;
    }

    boolean refuseWithoutReplica() {
        return "error".equals(shared.config.routing().fallback());
    }

    long clientWaitNanos() {
        return shared.config.failover().clientWait().toNanos();
    }

    String resetQuery() {
        return shared.config.pool().resetQuery();
    }

    /** Sends a CancelRequest to the server for what this backend runs. */
    void cancelBackend(BackendConnection backend) {
        InetSocketAddress address = backend.remoteAddress();
        shared.cancelSender.send(backend.eventLoop(), address.getHostString(), address.getPort(), backend.processId(),
                backend.secretKey());
    }

    /** Whether the process id in a pg_cancel_backend / pg_terminate_backend is one pgrelay issued. */
    boolean issuedProcess(String processId) {
        try {
            return shared.cancels.session(Integer.parseInt(processId.trim())) != null;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    CancelRegistry cancels() {
        return shared.cancels;
    }
}
