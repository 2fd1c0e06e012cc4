package io.pgrelay.core.session;

import io.pgrelay.core.auth.ClientCredentials;
import io.pgrelay.core.backend.BackendPools;
import io.pgrelay.core.cluster.ClusterState;
import io.pgrelay.core.cluster.NodeProbes;
import io.pgrelay.core.cluster.PrimaryPosition;
import io.pgrelay.core.cluster.ReplayPositions;
import io.pgrelay.core.config.PoolMode;
import io.pgrelay.core.config.ProxyConfig;
import io.pgrelay.core.metrics.ProxyMetrics;
import io.pgrelay.core.route.PrimaryGate;
import io.pgrelay.core.route.ReplicaBalancer;
import io.pgrelay.protocol.message.frontend.StartupMessage;

/**
 * What every client session shares, and how a session is made once its client authenticated.
 * Built once by the proxy.
 */
public final class SessionFactory {
    final ProxyConfig config;
    final ClusterState cluster;
    final NodeProbes monitor;
    final BackendPools pools;
    final SessionClassifiers classifiers;
    final ReplicaBalancer balancer;
    final ReplicaBalancer.ReadEligibility readEligibility;
    final PrimaryGate gate;
    final ProxyMetrics metrics;
    final CancelRegistry cancels;
    final CancelSender cancelSender;
    final boolean transactionPooling;
    /** Replay positions replicas confirmed to any session of the proxy. */
    volatile ReplayPositions replayPositions = new ReplayPositions();
    /** The primary's position for global reads; set once before the proxy serves clients. */
    volatile PrimaryPosition primaryPosition = PrimaryPosition.UNKNOWN;

    public SessionFactory(ProxyConfig config, ClusterState cluster, NodeProbes monitor, BackendPools pools,
                          SessionClassifiers classifiers, ReplicaBalancer balancer,
                          ReplicaBalancer.ReadEligibility readEligibility, PrimaryGate gate, ProxyMetrics metrics,
                          CancelRegistry cancels, CancelSender cancelSender) {
        this.config = config;
        this.cluster = cluster;
        this.monitor = monitor;
        this.pools = pools;
        this.classifiers = classifiers;
        this.balancer = balancer;
        this.readEligibility = readEligibility;
        this.gate = gate;
        this.metrics = metrics;
        this.cancels = cancels;
        this.cancelSender = cancelSender;
        this.transactionPooling = config.poolMode() == PoolMode.TRANSACTION;
    }

    /** The replay positions confirmed to this proxy's sessions (one set for every factory of a proxy). */
    public SessionFactory replayPositions(ReplayPositions positions) {
        this.replayPositions = positions;
        return this;
    }

    /** Where global reads learn the primary's position (by default: nowhere, they go to the primary). */
    public SessionFactory primaryPosition(PrimaryPosition positions) {
        this.primaryPosition = positions;
        return this;
    }

    /**
     * The handler that serves a client who logged in with {@code startup}; throws for startup
     * options the server would refuse.
     */
    public ClientSession session(StartupMessage startup, ClientCredentials credentials) {
        return new ClientSession(this, startup, credentials);
    }
}
