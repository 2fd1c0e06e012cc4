package io.pgrelay.core;

import com.codahale.metrics.MetricRegistry;
import io.pgrelay.core.backend.BackendPool;
import io.pgrelay.core.backend.PoolManager;
import io.pgrelay.core.cluster.ClusterState;
import io.pgrelay.core.cluster.NodeStatus;
import io.pgrelay.core.cluster.Topology;
import io.pgrelay.core.config.ProxyConfig;
import io.pgrelay.core.coordination.Coordinator;
import io.pgrelay.core.coordination.ClusterRecord;
import io.pgrelay.core.coordination.Leadership;
import io.pgrelay.core.coordination.Membership;
import io.pgrelay.core.metrics.ProxyMetrics;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.pgrelay.core.ops.ClusterOperations;
import io.pgrelay.core.ops.ProxyView;
import io.pgrelay.core.route.ReplicaBalancer;
import io.pgrelay.core.session.ClientRegistry;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/** {@link ProxyView} over the live parts of a {@link ProxyServer}; every read is taken when asked (after a reload: the reloaded configuration). */
final class LiveProxyView implements ProxyView {
    private final Supplier<ProxyConfig> config;
    private final ClusterState cluster;
    private final ReplicaBalancer.ReadEligibility readEligibility;
    private final PoolManager pools;
    private final ClientRegistry clients;
    private final ProxyMetrics metrics;
    private final ClusterOperations operations;
    private final Coordinator coordinator;

    LiveProxyView(Supplier<ProxyConfig> config, ClusterState cluster, ReplicaBalancer.ReadEligibility readEligibility,
                  PoolManager pools, ClientRegistry clients, ProxyMetrics metrics, ClusterOperations operations,
                  Coordinator coordinator) {
        this.config = config;
        this.cluster = cluster;
        this.readEligibility = readEligibility;
        this.pools = pools;
        this.clients = clients;
        this.metrics = metrics;
        this.operations = operations;
        this.coordinator = coordinator;
    }

    @Override
    public ProxyConfig config() {
        return config.get();
    }

    @Override
    public Topology topology() {
        return cluster.current();
    }

    @Override
    public boolean canRead(NodeStatus replica) {
        return readEligibility.canRead(replica);
    }

    @Override
    public List<PoolStats> pools() {
        List<PoolStats> stats = new ArrayList<>();
        for (BackendPool pool : pools.pools()) {
            stats.add(new PoolStats(pool.key().nodeIndex(), pool.key().nodeName(), pool.key().user(),
                    pool.key().database(), pool.total(), pool.active(), pool.idle(), pool.waiting(), pool.maxSize(),
                    pool.openedTotal(), pool.closedTotal()));
        }
        return stats;
    }

    @Override
    public List<ClientInfo> clients() {
        List<ClientInfo> list = new ArrayList<>();
        for (ClientRegistry.Entry client : clients.entries()) {
            list.add(new ClientInfo(client.id(), client.address(), client.user(), client.database(),
                    client.applicationName(), client.state(), client.node(), client.connectedAtMillis()));
        }
        return list;
    }

    @Override
    public ProxyMetrics.NodeStats nodeStats(String node) {
        return metrics.nodeStats(node);
    }

    @Override
    public MetricRegistry metricRegistry() {
        return metrics.registry();
    }

    @Override
    public MultiCollector prometheusMetrics() {
        return metrics.prometheus();
    }

    @Override
    public Membership membership() {
        return coordinator.membership();
    }

    @Override
    public ClusterRecord clusterRecord() {
        return coordinator.clusterRecord();
    }

    @Override
    public Leadership leadership() {
        return coordinator.leadership();
    }

    @Override
    public Optional<ClusterOperations> operations() {
        return Optional.of(operations);
    }
}
