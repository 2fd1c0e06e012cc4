package io.pgrelay.core.metrics;

import com.codahale.metrics.MetricRegistry;
import io.pgrelay.core.classify.Route;
import io.pgrelay.core.classify.StatementKind;
import io.pgrelay.core.cluster.ClusterState;
import io.pgrelay.core.cluster.Health;
import io.pgrelay.core.cluster.NodeStatus;
import io.pgrelay.core.cluster.Role;
import io.pgrelay.core.cluster.Topology;
import io.pgrelay.core.config.ProxyConfig.NodeConfig;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.DataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * ProxyMetrics over a real ClusterState and MetricRegistry: recording, the labelled Prometheus
 * families it exports, transitions, node changes.
 */
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

    private MetricSnapshot family(String name) {
        return metrics.prometheus().collect().stream().filter(f -> f.getMetadata().getName().equals(name))
                .findFirst().orElseThrow(() -> new AssertionError("no family " + name));
    }

    /** The value of the family's data point with exactly {@code labels}, or null when there is none. */
    private Double sample(String name, String... labels) {
        Labels wanted = Labels.of(labels);
        for (DataPointSnapshot point : family(name).getDataPoints()) {
            if (point.getLabels().equals(wanted)) {
                if (point instanceof CounterSnapshot.CounterDataPointSnapshot c) {
                    return c.getValue();
                }
                return ((GaugeSnapshot.GaugeDataPointSnapshot) point).getValue();
            }
        }
        return null;
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
        assertThat(metrics.statementLatency().getCount()).isEqualTo(1);
        assertThat(count(ProxyMetrics.REPLICA_RETRIES)).isEqualTo(1);
        assertThat(metrics.statementLatency().snapshot().sumNanos()).isEqualTo(TimeUnit.MILLISECONDS.toNanos(3));
        assertThat(sample("pgrelay_node_statements", "node", "pg1", "route", "primary", "kind", "write")).isEqualTo(2);
        assertThat(sample("pgrelay_node_statements", "node", "pg-2", "route", "replica", "kind", "read")).isEqualTo(1);
        assertThat(sample("pgrelay_node_sent_bytes", "node", "pg1")).isEqualTo(100);
        assertThat(sample("pgrelay_node_received_bytes", "node", "pg1")).isEqualTo(250);
        assertThat(sample("pgrelay_local_statements", "kind", "transaction")).isEqualTo(1);
        assertThat(sample("pgrelay_routing_replica_retries")).isEqualTo(1);
        HistogramSnapshot.HistogramDataPointSnapshot latency =
                ((HistogramSnapshot) family("pgrelay_statement_duration_seconds")).getDataPoints().get(0);
        assertThat(latency.getCount()).isEqualTo(1);
        assertThat(latency.getSum()).isEqualTo(0.003);
        assertThat(latency.getClassicBuckets().size()).isEqualTo(LatencyHistogram.upperBoundsSeconds().length + 1);
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
        assertThat(sample("pgrelay_clients_connected")).isEqualTo(5);
        assertThat(sample("pgrelay_node_state", "node", "pg1", "state", "up")).isZero();
        assertThat(sample("pgrelay_node_state", "node", "pg1", "state", "down")).isEqualTo(1);
        set(0, Role.PRIMARY, Health.UP);
        set(1, Role.REPLICA, Health.LAGGING);
        assertThat(sample("pgrelay_node_state", "node", "pg1", "state", "up")).isEqualTo(1);
        assertThat(sample("pgrelay_node_state", "node", "pg1", "state", "down")).isZero();
        assertThat(sample("pgrelay_node_role", "node", "pg1", "role", "primary")).isEqualTo(1);
        assertThat(sample("pgrelay_node_role", "node", "pg1", "role", "replica")).isZero();
        assertThat(sample("pgrelay_node_state", "node", "pg-2", "state", "lagging")).isEqualTo(1);
        assertThat(sample("pgrelay_node_state", "node", "pg-2", "state", "up")).isZero();
        assertThat(sample("pgrelay_node_replication_lag_bytes", "node", "pg-2")).isEqualTo(42);
        assertThat(sample("pgrelay_node_replication_lag_seconds", "node", "pg-2")).isEqualTo(0.007);
        assertThat(sample("pgrelay_node_timeline", "node", "pg-2")).isEqualTo(3);
        assertThat(family("pgrelay_node_state").getDataPoints()).as("five states of two nodes").hasSize(10);
        assertThat(family("pgrelay_pool_connections").getDataPoints()).as("no pools yet").isEmpty();
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
        assertThat(sample("pgrelay_node_timeline", "node", "pg3")).isZero();

        cluster.update(t -> new Topology(List.of(t.node(0)), t.version() + 1));
        assertThat(registry.getNames()).noneMatch(name -> name.contains("pg3") || name.contains("pg_2"));
        assertThat(sample("pgrelay_node_timeline", "node", "pg3")).isNull();
        assertThat(sample("pgrelay_node_timeline", "node", "pg1")).isNotNull();
        metrics.statementRouted(1, Route.PRIMARY, StatementKind.READ); // index 1 is gone: ignored
        assertThat(metrics.nodeStats("pg-2")).isNull();
    }

    @Test
    void aFencedNodeIsExportedAsFencedAndARemovedOneNotAtAll() {
        cluster.update(t -> t.with(t.node(0).withHealth(Health.FENCED)).with(t.node(1).withHealth(Health.REMOVED)));
        assertThat(sample("pgrelay_node_state", "node", "pg1", "state", "fenced")).isEqualTo(1);
        assertThat(sample("pgrelay_node_state", "node", "pg1", "state", "up")).isZero();
        assertThat(family("pgrelay_node_state").getDataPoints()).hasSize(5)
                .allMatch(point -> point.getLabels().get("node").equals("pg1"));
        assertThat(family("pgrelay_node_replication_lag_bytes").getDataPoints()).as("lag unknown before a probe")
                .isEmpty();
    }

    @Test
    void counterEventsForTheOperations() {
        metrics.failover();
        registry.counter(ProxyMetrics.SWITCHOVER_EVENTS).inc();
        assertThat(metrics.failovers()).isEqualTo(1);
        assertThat(metrics.switchovers()).isEqualTo(1);
        assertThat(sample("pgrelay_failovers")).isEqualTo(1);
        assertThat(sample("pgrelay_switchovers")).isEqualTo(1);
    }
}
