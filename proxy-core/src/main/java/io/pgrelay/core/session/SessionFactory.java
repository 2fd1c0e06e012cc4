package io.pgrelay.core.session;

import io.pgrelay.core.auth.ClientCredentials;
import io.pgrelay.core.backend.PoolManager;
import io.pgrelay.core.cluster.ClusterMonitor;
import io.pgrelay.core.cluster.ClusterState;
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
    final ClusterMonitor monitor;
    final PoolManager pools;
    final SessionClassifiers classifiers;
    final ReplicaBalancer balancer;
    final ReplicaBalancer.ReadEligibility readEligibility;
    final PrimaryGate gate;
    final ProxyMetrics metrics;
    final CancelRegistry cancels;
    final CancelSender cancelSender;
    final ClientRegistry clients;
    final boolean transactionPooling;

    public SessionFactory(ProxyConfig config, ClusterState cluster, ClusterMonitor monitor, PoolManager pools,
                          SessionClassifiers classifiers, ReplicaBalancer balancer,
                          ReplicaBalancer.ReadEligibility readEligibility, PrimaryGate gate, ProxyMetrics metrics,
                          CancelRegistry cancels, CancelSender cancelSender, ClientRegistry clients) {
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
        this.clients = clients;
        this.transactionPooling = config.poolMode() == PoolMode.TRANSACTION;
    }

    /** The handler that serves a client who logged in with {@code startup}. */
    public ClientSession session(StartupMessage startup, ClientCredentials credentials) {
        return new ClientSession(this, startup, credentials);
    }
}
