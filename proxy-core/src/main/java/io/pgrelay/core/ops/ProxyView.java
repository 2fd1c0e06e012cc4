package io.pgrelay.core.ops;

import com.codahale.metrics.MetricRegistry;
import io.pgrelay.core.cluster.NodeStatus;
import io.pgrelay.core.cluster.Topology;
import io.pgrelay.core.config.ProxyConfig;
import io.pgrelay.core.coordination.ClusterRecord;
import io.pgrelay.core.coordination.Leadership;
import io.pgrelay.core.coordination.Membership;
import io.pgrelay.core.metrics.ProxyMetrics;
import io.prometheus.metrics.model.registry.MultiCollector;

import java.net.SocketAddress;
import java.util.List;
import java.util.Optional;

/**
 * The running proxy as its operators see it: what the SQL console and the admin API read, and
 * the cluster operations they run. Reads are snapshots as plain values (no pools, no client
 * channels), cheap enough for an event loop; the proxy's wiring implements it, so operator
 * tools depend on this interface and not on how the proxy is put together.
 */
public interface ProxyView {
    /** The effective configuration. */
    ProxyConfig config();

    /** The current cluster snapshot. */
    Topology topology();

    /** Whether the read policy lets this replica serve reads now; a healthy replica it refuses is lagging. */
    boolean canRead(NodeStatus replica);

    /** Every backend pool, in no particular order. */
    List<PoolStats> pools();

    /** Every authenticated client connection, oldest first. */
    List<ClientInfo> clients();

    /** A node's statement, traffic and transition counts; null for a node the metrics do not know. */
    ProxyMetrics.NodeStats nodeStats(String node);

    /** The Dropwizard registry of the proxy's counters and latency histograms. */
    MetricRegistry metricRegistry();

    /** Every metric as labelled Prometheus families, as {@code /metrics} exports them (docs/metrics.md). */
    MultiCollector prometheusMetrics();

    /**
     * The live pgrelay instances: with {@code coordination}, every instance registered in etcd; without,
     * this one alone (empty before it started).
     */
    Membership membership();

    /** The shared cluster record as last seen; null without coordination or before it was read. */
    ClusterRecord clusterRecord();

    /** Which instance runs the cluster operations now; without coordination, this one. */
    Leadership leadership();

    /** The cluster operations; empty for a proxy that runs without them. */
    Optional<ClusterOperations> operations();

    /** One backend pool (node, user, database) and its connections now. */
    record PoolStats(int nodeIndex, String node, String user, String database, int total, int active, int idle,
                     int waiting, int maxSize, long opened, long closed) {
    }

    /**
     * One client connection as {@code SHOW CLIENTS} lists it; {@code state} in pg_stat_activity's
     * wording, {@code node} the node whose backend serves it now (null when it holds none).
     */
    record ClientInfo(long id, SocketAddress address, String user, String database, String applicationName,
                      String state, String node, long connectedAtMillis) {
    }
}
