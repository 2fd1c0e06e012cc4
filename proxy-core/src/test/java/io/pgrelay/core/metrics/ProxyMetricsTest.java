package io.pgrelay.core.metrics;

import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricRegistry;
import io.pgrelay.core.classify.Route;
import io.pgrelay.core.classify.StatementKind;
import io.pgrelay.core.cluster.ClusterState;
import io.pgrelay.core.cluster.Health;
import io.pgrelay.core.cluster.NodeStatus;
import io.pgrelay.core.cluster.Role;
import io.pgrelay.core.cluster.Topology;
import io.pgrelay.core.config.ProxyConfig.NodeConfig;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** ProxyMetrics over a real ClusterState and MetricRegistry: recording, node gauges, transitions, node changes. */
class ProxyMetricsTest {
    private static final List<NodeConfig> NODES = List.of(
            new NodeConfig("pg1", "127.0.0.1", 5432, null),
            new NodeConfig("pg-2", "127.0.0.1", 5433, null));

    private final MetricRegistry registry = new MetricRegistry();
    private final ClusterState cluster = new ClusterState(NODES);
    private final AtomicInteger clients = new AtomicInteger();
    private final ProxyMetrics metrics = new ProxyMetrics(registry, cluster);

    private static NodeStatus observed(NodeStatus node, Role role, Health health, long lagBytes) {
        return new NodeStatus(node.index(), node.config(), role, health, 3, 0, 0, 0, lagBytes, 7, 0,
                System.currentTimeMillis(), null, null);
    }

    private void set(int index, Role role, Health health) {
        cluster.update(t -> t.with(observed(t.node(index), role, health, role == Role.PRIMARY ? 0 : 42)));
    }

    private long count(String name) {
        return registry.counter(name).getCount();
    }

    private Object gauge(String name) {
        return ((Gauge<?>) registry.getGauges().get(name)).getValue();
    }

    @Test
    void statementsBytesAndLatencyPerNode() {
        metrics.statementRouted(0, Route.PRIMARY, StatementKind.WRITE);
        metrics.statementRouted(0, Route.PRIMARY, StatementKind.WRITE);
        metrics.statementRouted(1, Route.REPLICA, StatementKind.READ);
        metrics.statementRouted(7, Route.REPLICA, StatementKind.READ); // unknown node: ignored
        metrics.statementLocal(StatementKind.TRANSACTION);
        metrics.bytesSent(0, 100);
        metrics.bytesReceived(0, 250);
        metrics.unitLatency(TimeUnit.MILLISECONDS.toNanos(3));
        metrics.replicaRetry();

        assertThat(count("pgrelay.node.pg1.statements.primary.write")).isEqualTo(2);
        assertThat(count("pgrelay.node.pg_2.statements.replica.read")).isEqualTo(1);
        assertThat(count("pgrelay.statements.local.transaction")).isEqualTo(1);
        assertThat(count("pgrelay.node.pg1.bytes_sent")).isEqualTo(100);
        assertThat(count("pgrelay.node.pg1.bytes_received")).isEqualTo(250);
        assertThat(metrics.latency().getCount()).isEqualTo(1);
        assertThat(count(ProxyMetrics.REPLICA_RETRIES)).isEqualTo(1);
        assertThat(metrics.latency().getSnapshot().getMax()).isEqualTo(TimeUnit.MILLISECONDS.toNanos(3));
        ProxyMetrics.NodeStats stats = metrics.nodeStats("pg1");
        assertThat(stats.statements()).isEqualTo(2);
        assertThat(stats.primaryOnly()).isEqualTo(2);
        assertThat(stats.replicaSafe()).isZero();
        assertThat(metrics.nodeStats("pg-2").replicaSafe()).isEqualTo(1);
    }

    @Test
    void nodeGaugesFollowTheClusterState() {
        metrics.watchClients(clients::get);
        clients.set(5);
        assertThat(gauge(ProxyMetrics.CLIENTS_CURRENT)).isEqualTo(5);
        assertThat(gauge("pgrelay.node.pg1.up")).isEqualTo(0);
        set(0, Role.PRIMARY, Health.UP);
        set(1, Role.REPLICA, Health.LAGGING);
        assertThat(gauge("pgrelay.node.pg1.up")).isEqualTo(1);
        assertThat(gauge("pgrelay.node.pg1.primary")).isEqualTo(1);
        assertThat(gauge("pgrelay.node.pg1.role")).isEqualTo(Role.PRIMARY.ordinal());
        assertThat(gauge("pgrelay.node.pg_2.state")).isEqualTo(Health.LAGGING.ordinal());
        assertThat(gauge("pgrelay.node.pg_2.lag_bytes")).isEqualTo(42L);
        assertThat(gauge("pgrelay.node.pg_2.lag_ms")).isEqualTo(7L);
        assertThat(gauge("pgrelay.node.pg_2.timeline")).isEqualTo(3);
        assertThat(gauge("pgrelay.pool.pg1.active")).isEqualTo(0L);
    }

    @Test
    void downAndUpTransitionsOfProbedNodes() {
        set(0, Role.PRIMARY, Health.UP);
        assertThat(count("pgrelay.node.pg1.down_transitions")).isZero();
        set(0, Role.PRIMARY, Health.DOWN);
        set(0, Role.PRIMARY, Health.DOWN);
        assertThat(count("pgrelay.node.pg1.down_transitions")).isEqualTo(1);
        set(0, Role.PRIMARY, Health.UP);
        assertThat(count("pgrelay.node.pg1.up_transitions")).isEqualTo(1);
        // Never probed successfully: its initial DOWN is no transition.
        assertThat(count("pgrelay.node.pg_2.down_transitions")).isZero();
    }

    @Test
    void nodesAddedAndRemovedAtRuntime() {
        cluster.update(t -> {
            List<NodeStatus> nodes = new ArrayList<>(t.nodes());
            nodes.add(NodeStatus.initial(2, new NodeConfig("pg3", "127.0.0.1", 5434, null)));
            return new Topology(nodes, t.version() + 1);
        });
        metrics.statementRouted(2, Route.PRIMARY, StatementKind.READ);
        assertThat(count("pgrelay.node.pg3.statements.primary.read")).isEqualTo(1);
        assertThat(registry.getGauges()).containsKey("pgrelay.pool.pg3.idle");

        cluster.update(t -> new Topology(List.of(t.node(0)), t.version() + 1));
        assertThat(registry.getNames()).noneMatch(name -> name.contains(".pg3.") || name.contains(".pg_2."));
        assertThat(registry.getGauges()).containsKey("pgrelay.node.pg1.up");
        metrics.statementRouted(1, Route.PRIMARY, StatementKind.READ); // index 1 is gone: ignored
        assertThat(metrics.nodeStats("pg-2")).isNull();
    }

    @Test
    void counterEventsForTheOperations() {
        metrics.failover();
        registry.counter(ProxyMetrics.SWITCHOVER_EVENTS).inc();
        assertThat(metrics.failovers()).isEqualTo(1);
        assertThat(metrics.switchovers()).isEqualTo(1);
    }
}
