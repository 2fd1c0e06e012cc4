package io.pgrelay.core.metrics;

import io.pgrelay.core.backend.BackendPool;
import io.pgrelay.core.backend.PoolKey;
import io.pgrelay.core.classify.Classifier;
import io.pgrelay.core.classify.Route;
import io.pgrelay.core.classify.StatementKind;
import io.pgrelay.core.cluster.Health;
import io.pgrelay.core.cluster.NodeStatus;
import io.pgrelay.core.cluster.Role;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Unit;

import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.ToLongFunction;

/**
 * Turns {@link ProxyMetrics} into Prometheus families when {@code /metrics} is scraped: one
 * family per quantity, its dimensions as labels ({@code node}, {@code route}, {@code kind},
 * {@code database}, {@code user}, {@code state}, {@code role}), HELP written here, base units
 * (seconds, bytes), states and roles as one 0/1 gauge per value rather than an ordinal, latency
 * as classic histograms. Everything is read at scrape time; nothing here runs per statement.
 * The families are listed, with these HELP texts, in {@code docs/metrics.md}.
 */
final class PrometheusExport implements MultiCollector {
    private static final double[] BOUNDS = LatencyHistogram.upperBoundsSeconds();
    /** Health values a node can be exported in; removed nodes are not exported at all. */
    private static final List<Health> STATES = List.of(Health.UP, Health.DOWN, Health.LAGGING, Health.FENCED,
            Health.DRAINED);

    private final ProxyMetrics metrics;

    PrometheusExport(ProxyMetrics metrics) {
        this.metrics = metrics;
    }

    @Override
    public MetricSnapshots collect() {
        MetricSnapshots.Builder out = MetricSnapshots.builder();
        clients(out);
        nodes(out);
        pools(out);
        routing(out);
        latency(out);
        classifier(out);
        out.metricSnapshot(counter("pgrelay_failovers",
                "Failovers (automatic, or asked through the admin API or the console) that promoted a replica.",
                metrics.failovers()));
        out.metricSnapshot(counter("pgrelay_switchovers", "Planned switchovers completed.",
                metrics.switchovers()));
        out.metricSnapshot(gauge("pgrelay_coordination_members",
                "Live pgrelay instances registered in etcd as this one sees them, itself included; 1 without "
                        + "coordination.",
                metrics.coordinationMembers()));
        CounterSnapshot.Builder cancels = CounterSnapshot.builder().name("pgrelay_cancels_forwarded")
                .help("CancelRequests for a session of another instance (the key names its slot), passed on to it: "
                        + "sent, failed (not reached in time), overflow (too many under way).");
        for (ProxyMetrics.ForwardedCancel result : ProxyMetrics.ForwardedCancel.values()) {
            cancels.dataPoint(counterPoint(Labels.of("result", result.label()), metrics.cancelsForwarded(result)));
        }
        out.metricSnapshot(cancels.build());
        return out.build();
    }

    private void clients(MetricSnapshots.Builder out) {
        out.metricSnapshot(gauge("pgrelay_clients_connected",
                "Client connections past the startup packet and not yet closed, console sessions included.",
                metrics.clientsConnected()));
        out.metricSnapshot(counter("pgrelay_clients_accepted",
                "Client startups accepted within max-client-connections, before authentication.",
                metrics.clientsAccepted()));
        out.metricSnapshot(counter("pgrelay_clients_refused",
                "Clients turned away: connection limit reached, failed authentication, or no permission for the "
                        + "console.",
                metrics.clientsRefused()));
    }

    private void nodes(MetricSnapshots.Builder out) {
        GaugeSnapshot.Builder state = GaugeSnapshot.builder().name("pgrelay_node_state")
                .help("1 for the node's current health (up: takes new work of its role; a banned replica is down), "
                        + "0 for the others.");
        GaugeSnapshot.Builder banned = GaugeSnapshot.builder().name("pgrelay_node_banned")
                .help("1 while the replica takes no reads after a timeout or a failed connect (until the ban "
                        + "expires and a probe succeeds), else 0.");
        GaugeSnapshot.Builder role = GaugeSnapshot.builder().name("pgrelay_node_role")
                .help("1 for the node's role as last probed, 0 for the others.");
        GaugeSnapshot.Builder lagBytes = GaugeSnapshot.builder().name("pgrelay_node_replication_lag_bytes")
                .unit(Unit.BYTES).help("WAL bytes the node has not replayed behind the primary's position; 0 on the "
                        + "primary; absent while unknown.");
        GaugeSnapshot.Builder lagSeconds = GaugeSnapshot.builder().name("pgrelay_node_replication_lag_seconds")
                .unit(Unit.SECONDS).help("Replay delay of the node (0 when all received WAL is replayed); absent "
                        + "while unknown.");
        GaugeSnapshot.Builder timeline = GaugeSnapshot.builder().name("pgrelay_node_timeline")
                .help("The node's timeline ID as last probed.");
        CounterSnapshot.Builder down = CounterSnapshot.builder().name("pgrelay_node_down_transitions")
                .help("Times the node went down after having been seen up.");
        CounterSnapshot.Builder up = CounterSnapshot.builder().name("pgrelay_node_up_transitions")
                .help("Times the node came back from down.");
        CounterSnapshot.Builder statements = CounterSnapshot.builder().name("pgrelay_node_statements")
                .help("Units (a simple Query, or extended-protocol messages up to Sync) sent to the node, by the "
                        + "route the classifier allowed and the statement kind.");
        CounterSnapshot.Builder sent = CounterSnapshot.builder().name("pgrelay_node_sent_bytes").unit(Unit.BYTES)
                .help("Bytes of client messages written to the node.");
        CounterSnapshot.Builder received = CounterSnapshot.builder().name("pgrelay_node_received_bytes")
                .unit(Unit.BYTES).help("Bytes of server messages read from the node.");
        CounterSnapshot.Builder replicaReads = CounterSnapshot.builder().name("pgrelay_routing_replica_reads")
                .help("Units routed to the node as a replica for reading.");

        NodeMetrics[] counters = metrics.nodes();
        for (NodeStatus node : metrics.cluster().current().nodes()) {
            NodeMetrics m = node.index() < counters.length ? counters[node.index()] : null;
            if (node.health() == Health.REMOVED || m == null || !m.name.equals(node.name())) {
                continue;
            }
            Labels labels = Labels.of("node", node.name());
            Health shown = node.health() == Health.UP && node.ban() != null ? Health.DOWN : node.health();
            for (Health health : STATES) {
                state.dataPoint(gaugePoint(labels.add("state", health.label()), shown == health ? 1 : 0));
            }
            banned.dataPoint(gaugePoint(labels, node.ban() != null ? 1 : 0));
            for (Role r : Role.values()) {
                role.dataPoint(gaugePoint(labels.add("role", r.label()), node.role() == r ? 1 : 0));
            }
            if (node.lagBytes() >= 0) {
                lagBytes.dataPoint(gaugePoint(labels, node.lagBytes()));
            }
            if (node.lagMillis() >= 0) {
                lagSeconds.dataPoint(gaugePoint(labels, Unit.millisToSeconds(node.lagMillis())));
            }
            timeline.dataPoint(gaugePoint(labels, node.timeline()));
            down.dataPoint(counterPoint(labels, m.downTransitions.getCount()));
            up.dataPoint(counterPoint(labels, m.upTransitions.getCount()));
            for (Route route : ProxyMetrics.ROUTES) {
                for (StatementKind kind : ProxyMetrics.KINDS) {
                    statements.dataPoint(counterPoint(labels.add("route", route.jsonName()).add("kind", kind.jsonName()),
                            m.statements[route.ordinal()][kind.ordinal()].getCount()));
                }
            }
            sent.dataPoint(counterPoint(labels, m.bytesSent.getCount()));
            received.dataPoint(counterPoint(labels, m.bytesReceived.getCount()));
            replicaReads.dataPoint(counterPoint(labels, m.replicaReads.getCount()));
        }
        out.metricSnapshot(state.build()).metricSnapshot(banned.build()).metricSnapshot(role.build())
                .metricSnapshot(lagBytes.build())
                .metricSnapshot(lagSeconds.build()).metricSnapshot(timeline.build()).metricSnapshot(down.build())
                .metricSnapshot(up.build()).metricSnapshot(statements.build()).metricSnapshot(sent.build())
                .metricSnapshot(received.build()).metricSnapshot(replicaReads.build());
    }

    private void pools(MetricSnapshots.Builder out) {
        GaugeSnapshot.Builder connections = GaugeSnapshot.builder().name("pgrelay_pool_connections")
                .help("Backend connections of the pool: active (in use by a session, or being opened) or idle.");
        GaugeSnapshot.Builder max = GaugeSnapshot.builder().name("pgrelay_pool_max_connections")
                .help("The pool's pool.max-size.");
        GaugeSnapshot.Builder waiting = GaugeSnapshot.builder().name("pgrelay_pool_waiting_clients")
                .help("Sessions waiting for a connection because the pool is full.");
        CounterSnapshot.Builder opened = CounterSnapshot.builder().name("pgrelay_pool_connections_opened")
                .help("Backend connections the pool opened.");
        CounterSnapshot.Builder closed = CounterSnapshot.builder().name("pgrelay_pool_connections_closed")
                .help("Backend connections the pool closed for good (idle timeout, errors, node failure, a session "
                        + "ending inside an extended-protocol exchange).");
        for (BackendPool pool : metrics.pools()) {
            PoolKey key = pool.key();
            Labels labels = Labels.of("node", key.nodeName(), "database", key.database(), "user", key.user());
            connections.dataPoint(gaugePoint(labels.add("state", "active"), pool.active()));
            connections.dataPoint(gaugePoint(labels.add("state", "idle"), pool.idle()));
            max.dataPoint(gaugePoint(labels, pool.maxSize()));
            waiting.dataPoint(gaugePoint(labels, pool.waiting()));
            opened.dataPoint(counterPoint(labels, pool.openedTotal()));
            closed.dataPoint(counterPoint(labels, pool.closedTotal()));
        }
        out.metricSnapshot(connections.build()).metricSnapshot(max.build()).metricSnapshot(waiting.build())
                .metricSnapshot(opened.build()).metricSnapshot(closed.build());
    }

    private void routing(MetricSnapshots.Builder out) {
        out.metricSnapshot(counter("pgrelay_routing_replica_retries",
                "Units a replica refused with a standby-only error before the client saw a reply, run again on the "
                        + "primary.", metrics.replicaRetries()));
        out.metricSnapshot(counter("pgrelay_routing_fallbacks_to_primary",
                "Reads sent to the primary because no replica was eligible (down, lagging, none configured).",
                metrics.fallbacks()));
        out.metricSnapshot(counter("pgrelay_routing_causal_primary_reads",
                "Reads of causal sessions sent to the primary because no replica had replayed their position yet.",
                metrics.causalPrimaryReads()));
        out.metricSnapshot(counter("pgrelay_routing_causal_checks",
                "Causal and global waits resolved by asking a replica how far it replayed, the monitor's figure "
                        + "being older than the position the read needs.", metrics.causalChecks()));
        out.metricSnapshot(counter("pgrelay_routing_global_primary_reads",
                "Reads of global sessions sent to the primary: no replica replayed the primary's position within "
                        + "routing.global-wait, or the position could not be learned.", metrics.globalPrimaryReads()));
        out.metricSnapshot(counter("pgrelay_routing_global_position_requests",
                "Global reads that asked for the primary's WAL position at their start.",
                metrics.globalPositionRequests()));
        out.metricSnapshot(counter("pgrelay_routing_global_position_queries",
                "Queries on the primary that answered global reads' position requests, one per batch.",
                metrics.globalPositionQueries()));
        out.metricSnapshot(counter("pgrelay_routing_replica_failures",
                "Reads whose replica could not be reached or died before answering, run on the primary instead.",
                metrics.replicaFailures()));
        out.metricSnapshot(counter("pgrelay_routing_primary_waits",
                "Statements that waited for a primary (failover) or for the primary gate (switchover) instead of "
                        + "failing.", metrics.primaryWaits()));
        CounterSnapshot.Builder local = CounterSnapshot.builder().name("pgrelay_local_statements")
                .help("Statements pgrelay answered itself (SET pgrelay.route, a deferred BEGIN, the end of a "
                        + "transaction that never reached a server), by statement kind.");
        for (StatementKind kind : ProxyMetrics.KINDS) {
            local.dataPoint(counterPoint(Labels.of("kind", kind.jsonName()),
                    metrics.localStatements()[kind.ordinal()].getCount()));
        }
        out.metricSnapshot(local.build());
    }

    private void latency(MetricSnapshots.Builder out) {
        out.metricSnapshot(histogram("pgrelay_statement_duration_seconds",
                "Time from sending a unit (a simple Query, or extended-protocol messages up to Sync) to a server "
                        + "until its ReadyForQuery.", metrics.statementLatency()));
        out.metricSnapshot(histogram("pgrelay_transaction_duration_seconds",
                "Time from sending a transaction's first unit to a server until the ReadyForQuery that reports "
                        + "idle again; a statement outside a transaction block counts as one transaction.",
                metrics.transactionLatency()));
    }

    private void classifier(MetricSnapshots.Builder out) {
        Collection<Classifier> classifiers = metrics.classifiers();
        out.metricSnapshot(counter("pgrelay_classifier_cache_hits",
                "Statements classified from the fingerprint cache, over every database.",
                sum(classifiers, Classifier::cacheHits)));
        out.metricSnapshot(counter("pgrelay_classifier_cache_misses",
                "Statements analysed because their fingerprint was not cached (or the cache is disabled).",
                sum(classifiers, Classifier::cacheMisses)));
        out.metricSnapshot(gauge("pgrelay_classifier_cache_entries",
                "Entries in the classifiers' fingerprint caches.", sum(classifiers, Classifier::cacheSize)));
        out.metricSnapshot(counter("pgrelay_classifier_calcite_parses",
                "Statements handed to Calcite to refine a primary-only verdict.",
                sum(classifiers, Classifier::calciteParses)));
        out.metricSnapshot(CounterSnapshot.builder().name("pgrelay_classifier_calcite_parse_seconds")
                .unit(Unit.SECONDS)
                .help("Time spent in the Calcite parses pgrelay_classifier_calcite_parses_total counts.")
                .dataPoint(counterPoint(Labels.EMPTY, Unit.nanosToSeconds(sum(classifiers, Classifier::calciteNanos))))
                .build());
    }

    private static HistogramSnapshot histogram(String name, String help, LatencyHistogram histogram) {
        LatencyHistogram.Snapshot snapshot = histogram.snapshot();
        double[] bounds = new double[BOUNDS.length + 1];
        System.arraycopy(BOUNDS, 0, bounds, 0, BOUNDS.length);
        bounds[BOUNDS.length] = Double.POSITIVE_INFINITY;
        return HistogramSnapshot.builder().name(name).unit(Unit.SECONDS).help(help)
                .dataPoint(HistogramDataPointSnapshot.builder()
                        .classicHistogramBuckets(ClassicHistogramBuckets.of(bounds, snapshot.counts()))
                        .sum(snapshot.sumNanos() / (double) TimeUnit.SECONDS.toNanos(1))
                        .build())
                .build();
    }

    private static CounterSnapshot counter(String name, String help, double value) {
        return CounterSnapshot.builder().name(name).help(help).dataPoint(counterPoint(Labels.EMPTY, value))
                .build();
    }

    private static GaugeSnapshot gauge(String name, String help, double value) {
        return GaugeSnapshot.builder().name(name).help(help).dataPoint(gaugePoint(Labels.EMPTY, value))
                .build();
    }

    private static CounterDataPointSnapshot counterPoint(Labels labels, double value) {
        return CounterDataPointSnapshot.builder().labels(labels).value(value).build();
    }

    private static GaugeDataPointSnapshot gaugePoint(Labels labels, double value) {
        return GaugeDataPointSnapshot.builder().labels(labels).value(value).build();
    }

    private static <T> long sum(Collection<T> items, ToLongFunction<T> value) {
        return ProxyMetrics.sum(items, value);
    }
}
