package io.pgrelay.core;

import com.codahale.metrics.MetricRegistry;
import io.netty.handler.ssl.SslContext;
import io.pgrelay.core.auth.UserDirectory;
import io.pgrelay.core.backend.EventLoops;
import io.pgrelay.core.backend.PoolManager;
import io.pgrelay.core.cluster.ClusterMonitor;
import io.pgrelay.core.cluster.ClusterState;
import io.pgrelay.core.config.ProxyConfig;
import io.pgrelay.core.metrics.ProxyMetrics;
import io.pgrelay.core.session.CancelRegistry;
import io.pgrelay.core.session.ClientRegistry;
import io.pgrelay.core.session.CancelSender;
import io.pgrelay.core.session.SessionClassifiers;
import io.pgrelay.core.ops.ClusterOperations;
import io.pgrelay.core.route.PrimaryGate;
import io.pgrelay.core.route.ReplicaBalancer;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The services every client session shares. Built once by {@link ProxyServer}; handed to
 * handlers explicitly (no global singletons), so tests can build their own.
 */
public record ProxyContext(
        ProxyConfig config,
        ClusterState cluster,
        ClusterMonitor monitor,
        PoolManager pools,
        UserDirectory users,
        CancelRegistry cancels,
        CancelSender cancelSender,
        SslContext clientSsl,
        EventLoops loops,
        MetricRegistry metrics,
        AtomicInteger clientCount,
        SessionClassifiers classifiers,
        ReplicaBalancer balancer,
        ReplicaBalancer.ReadEligibility readEligibility,
        PrimaryGate primaryGate,
        ClusterOperations operations,
        ProxyMetrics proxyMetrics,
        ClientRegistry clients) {

    /** Builds the metrics over this context's cluster, pools and client count, and an empty client registry. */
    public ProxyContext(ProxyConfig config, ClusterState cluster, ClusterMonitor monitor, PoolManager pools,
                        UserDirectory users, CancelRegistry cancels, CancelSender cancelSender, SslContext clientSsl,
                        EventLoops loops, MetricRegistry metrics, AtomicInteger clientCount,
                        SessionClassifiers classifiers, ReplicaBalancer balancer,
                        ReplicaBalancer.ReadEligibility readEligibility, PrimaryGate primaryGate,
                        ClusterOperations operations) {
        this(config, cluster, monitor, pools, users, cancels, cancelSender, clientSsl, loops, metrics, clientCount,
                classifiers, balancer, readEligibility, primaryGate, operations,
                new ProxyMetrics(metrics, cluster, pools, clientCount), new ClientRegistry());
    }

    /** What sessions share (a view of this context). */
    public io.pgrelay.core.session.SessionFactory sessions() {
        return new io.pgrelay.core.session.SessionFactory(config, cluster, monitor, pools, classifiers, balancer,
                readEligibility, primaryGate, proxyMetrics, cancels, cancelSender, clients);
    }
}
