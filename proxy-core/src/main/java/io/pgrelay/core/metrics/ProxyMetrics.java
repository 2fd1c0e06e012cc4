package io.pgrelay.core.metrics;

import com.codahale.metrics.Counter;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.Metric;
import com.codahale.metrics.MetricRegistry;
import io.pgrelay.core.backend.BackendPool;
import io.pgrelay.core.classify.Classifier;
import io.pgrelay.core.classify.Route;
import io.pgrelay.core.classify.StatementKind;
import io.pgrelay.core.cluster.ClusterState;
import io.prometheus.metrics.model.registry.MultiCollector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;

/**
 * What the proxy counts, kept in the Dropwizard registry (the console's {@code SHOW STATS} and
 * tests read it there), and the live state it exports beside the counts: connected clients,
 * pools, the cluster snapshot, classifier caches. {@link #prometheus()} turns both into labelled
 * Prometheus families (see {@link PrometheusExport}; every name is documented in
 * {@code docs/metrics.md}). The recording methods used per statement touch only counters and
 * histograms resolved in advance, so they allocate nothing and take no lock.
 */
public final class ProxyMetrics {
    private static final Logger log = LoggerFactory.getLogger(ProxyMetrics.class);

    public static final String CLIENTS_CURRENT = "pgrelay.clients.current";
    public static final String CLIENTS_ACCEPTED = "pgrelay.clients.accepted";
    public static final String CLIENTS_REFUSED = "pgrelay.clients.refused";
    /** Incremented once per automatic or manual failover that promoted a replica. */
    public static final String FAILOVER_EVENTS = "pgrelay.failover.events";
    /** Incremented once per completed planned switchover. */
    public static final String SWITCHOVER_EVENTS = "pgrelay.switchover.events";
    /** Incremented by ClientSession when a replica refused a unit and it ran again on the primary. */
    public static final String REPLICA_RETRIES = "pgrelay.routing.replica_retries";
    public static final String FALLBACKS = "pgrelay.routing.fallbacks_to_primary";
    public static final String CAUSAL_CHECKS = "pgrelay.routing.causal_checks";
    public static final String CAUSAL_PRIMARY_READS = "pgrelay.routing.causal_primary_reads";
    public static final String GLOBAL_PRIMARY_READS = "pgrelay.routing.global_primary_reads";
    public static final String REPLICA_FAILURES = "pgrelay.routing.replica_failures";
    public static final String PRIMARY_WAITS = "pgrelay.routing.primary_waits";
    public static final String STATEMENT_LATENCY = "pgrelay.statement.latency";
    public static final String TRANSACTION_LATENCY = "pgrelay.transaction.latency";
    /** Followed by the node's key. */
    public static final String REPLICA_READS = "pgrelay.routing.replica_reads.";
    public static final String LOCAL_STATEMENTS = "pgrelay.statements.local.";
    /** Followed by the result, lower case: a CancelRequest passed on to the instance that issued its key. */
    public static final String CANCELS_FORWARDED = "pgrelay.cancels.forwarded.";

    /** What became of a CancelRequest passed on to the instance that issued its key. */
    public enum ForwardedCancel {
        /** Written to the issuing instance. */
        SENT,
        /** The issuing instance could not be reached in time. */
        FAILED,
        /** Dropped: too many forwards already under way. */
        OVERFLOW;

        String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    static final Route[] ROUTES = Route.values();
    static final StatementKind[] KINDS = StatementKind.values();

    private final MetricRegistry registry;
    private final ClusterState cluster;
    /** Read when scraped; no pools until {@link #watchPools} is called. */
    private volatile Supplier<Collection<BackendPool>> pools = List::of;
    private volatile Supplier<Collection<Classifier>> classifiers = List::of;
    private volatile IntSupplier clients = () -> 0;
    private volatile IntSupplier coordinationMembers = () -> 1;
    private volatile LongSupplier globalPositionRequests = () -> 0;
    private volatile LongSupplier globalPositionQueries = () -> 0;
    private final Counter accepted;
    private final Counter refused;
    private final Counter failovers;
    private final Counter switchovers;
    private final Counter replicaRetries;
    private final Counter fallbacks;
    private final Counter causalChecks;
    private final Counter causalPrimaryReads;
    private final Counter globalPrimaryReads;
    private final Counter replicaFailures;
    private final Counter primaryWaits;
    private final Counter[] local = new Counter[KINDS.length];
    private final Counter[] forwardedCancels = new Counter[ForwardedCancel.values().length];
    private final LatencyHistogram statementLatency = new LatencyHistogram();
    private final LatencyHistogram transactionLatency = new LatencyHistogram();
    private final PrometheusExport prometheus;
    private final NodeMetricsTable nodes;

    /** What {@code SHOW STATS} prints for a node. */
    public record NodeStats(String node, long statements, long primaryOnly, long replicaSafe, long bytesSent,
                            long bytesReceived, long connectionsOpened, long connectionsClosed, long upTransitions,
                            long downTransitions) {
    }

    /**
     * Registers the proxy-wide metrics in {@code registry} and follows {@code cluster} to add
     * and remove per-node metrics.
     */
    public ProxyMetrics(MetricRegistry registry, ClusterState cluster) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.cluster = Objects.requireNonNull(cluster, "cluster");
        MetricRegistry r = this.registry;
        accepted = r.counter(CLIENTS_ACCEPTED);
        refused = r.counter(CLIENTS_REFUSED);
        failovers = r.counter(FAILOVER_EVENTS);
        switchovers = r.counter(SWITCHOVER_EVENTS);
        replicaRetries = r.counter(REPLICA_RETRIES);
        fallbacks = r.counter(FALLBACKS);
        causalChecks = r.counter(CAUSAL_CHECKS);
        causalPrimaryReads = r.counter(CAUSAL_PRIMARY_READS);
        globalPrimaryReads = r.counter(GLOBAL_PRIMARY_READS);
        replicaFailures = r.counter(REPLICA_FAILURES);
        primaryWaits = r.counter(PRIMARY_WAITS);
        for (StatementKind kind : KINDS) {
            local[kind.ordinal()] = r.counter(LOCAL_STATEMENTS + kind.jsonName());
        }
        for (ForwardedCancel result : ForwardedCancel.values()) {
            forwardedCancels[result.ordinal()] = r.counter(CANCELS_FORWARDED + result.label());
        }
        replace(STATEMENT_LATENCY, statementLatency);
        replace(TRANSACTION_LATENCY, transactionLatency);
        nodes = new NodeMetricsTable(r);
        prometheus = new PrometheusExport(this);
        nodes.onTopology(cluster.current());
        cluster.addListener(nodes::onTopology);
    }

    public MetricRegistry registry() {
        return registry;
    }

    /** Every metric as labelled Prometheus families, for the admin API's {@code /metrics}. */
    public MultiCollector prometheus() {
        return prometheus;
    }

    // ------------------------------------------------------------ recording (hot path)

    /** A unit of statements was sent to node {@code nodeIndex}; {@code route} is what the classifier allowed. */
    public void statementRouted(int nodeIndex, Route route, StatementKind kind) {
        NodeMetrics node = node(nodeIndex);
        if (node != null && route != null && kind != null) {
            node.statements[route.ordinal()][kind.ordinal()].inc();
        }
    }

    /** A statement pgrelay answered itself (SET pgrelay.route, a deferred BEGIN, …). */
    public void statementLocal(StatementKind kind) {
        if (kind != null) {
            local[kind.ordinal()].inc();
        }
    }

    /** Bytes of client messages written to node {@code nodeIndex}. */
    public void bytesSent(int nodeIndex, long bytes) {
        NodeMetrics node = node(nodeIndex);
        if (node != null) {
            node.bytesSent.inc(bytes);
        }
    }

    /** Bytes of server messages read from node {@code nodeIndex}. */
    public void bytesReceived(int nodeIndex, long bytes) {
        NodeMetrics node = node(nodeIndex);
        if (node != null) {
            node.bytesReceived.inc(bytes);
        }
    }

    /** Time from a unit's dispatch to its ReadyForQuery (or the end of its replies). */
    public void unitLatency(long nanos) {
        statementLatency.record(nanos);
    }

    /** Time from sending a transaction's first unit to the ReadyForQuery that reported idle again. */
    public void transactionLatency(long nanos) {
        transactionLatency.record(nanos);
    }

    public void clientAccepted() {
        accepted.inc();
    }

    /** A client turned away: connection limit, failed authentication, console permission. */
    public void clientRefused() {
        refused.inc();
    }

    /** A replica refused a unit with a standby-only error and it runs again on the primary. */
    public void replicaRetry() {
        replicaRetries.inc();
    }

    /** A read was routed to replica {@code nodeIndex}. */
    public void replicaRead(int nodeIndex) {
        NodeMetrics node = node(nodeIndex);
        if (node != null) {
            node.replicaReads.inc();
        }
    }

    /** A read went to the primary because no replica could take it. */
    public void fallback() {
        fallbacks.inc();
    }

    /** A causal read asked its replica how far it replayed. */
    public void causalCheck() {
        causalChecks.inc();
    }

    /** A causal read went to the primary: no replica had the session's writes yet. */
    public void causalPrimaryRead() {
        causalPrimaryReads.inc();
    }

    /** A global read went to the primary: no replica replayed its position within the wait, or it was unknown. */
    public void globalPrimaryRead() {
        globalPrimaryReads.inc();
    }

    /** A replica could not be reached or died before answering a read; the primary ran it. */
    public void replicaFailure() {
        replicaFailures.inc();
    }

    /** A statement waited for a primary (failover) or for the primary gate (switchover). */
    public void primaryWait() {
        primaryWaits.inc();
    }

    public void failover() {
        failovers.inc();
    }

    public void switchover() {
        switchovers.inc();
    }

    private NodeMetrics node(int index) {
        return nodes.node(index);
    }

    // ------------------------------------------------------------ live state, read when scraped

    /** The number of connected clients (also a Dropwizard gauge, {@link #CLIENTS_CURRENT}). */
    public void watchClients(IntSupplier current) {
        this.clients = Objects.requireNonNull(current, "current");
        replace(CLIENTS_CURRENT, (Gauge<Integer>) current::getAsInt);
    }

    /** The live pgrelay instances this one knows of (itself alone without coordination). */
    public void watchCoordination(IntSupplier members) {
        this.coordinationMembers = Objects.requireNonNull(members, "members");
    }

    /** Global reads' position requests, and the queries on the primary that answered them (batched). */
    public void watchGlobalPositions(LongSupplier requests, LongSupplier queries) {
        this.globalPositionRequests = Objects.requireNonNull(requests, "requests");
        this.globalPositionQueries = Objects.requireNonNull(queries, "queries");
    }

    long globalPositionRequests() {
        return globalPositionRequests.getAsLong();
    }

    long globalPositionQueries() {
        return globalPositionQueries.getAsLong();
    }

    /** The pool figures and the connection counts of {@code SHOW STATS} read these pools. */
    public void watchPools(Supplier<Collection<BackendPool>> pools) {
        this.pools = Objects.requireNonNull(pools, "pools");
    }

    /** The classifier cache and Calcite figures are exported summed over these classifiers (one per database). */
    public void watchClassifiers(Supplier<Collection<Classifier>> classifiers) {
        this.classifiers = Objects.requireNonNull(classifiers, "classifiers");
    }

    static <T> long sum(Collection<T> items, ToLongFunction<T> value) {
        long sum = 0;
        for (T item : items) {
            sum += value.applyAsLong(item);
        }
        return sum;
    }

    private long poolSum(String nodeName, ToLongFunction<BackendPool> value) {
        long sum = 0;
        for (BackendPool pool : pools.get()) {
            if (pool.key().nodeName().equals(nodeName)) {
                sum += value.applyAsLong(pool);
            }
        }
        return sum;
    }

    /** Registers {@code metric}, replacing one of the same name (a test may build several contexts on one registry). */
    private void replace(String name, Metric metric) {
        registry.remove(name);
        try {
            registry.register(name, metric);
        } catch (IllegalArgumentException e) {
            log.warn("metric {} not registered: {}", name, e.getMessage());
        }
    }

    // ------------------------------------------------------------ reading, for the console

    /** Per-node figures, or null for an unknown node. */
    public NodeStats nodeStats(String name) {
        NodeMetrics m = nodes.byName(name);
        if (m == null) {
            return null;
        }
        return new NodeStats(name, m.statements(), m.statements(Route.PRIMARY), m.statements(Route.REPLICA),
                m.bytesSent.getCount(), m.bytesReceived.getCount(), poolSum(name, BackendPool::openedTotal),
                poolSum(name, BackendPool::closedTotal), m.upTransitions.getCount(), m.downTransitions.getCount());
    }

    /** Per-node counters by node index, for the export; an entry may be null while the node list changes. */
    NodeMetrics[] nodes() {
        return nodes.nodes();
    }

    ClusterState cluster() {
        return cluster;
    }

    Collection<BackendPool> pools() {
        return pools.get();
    }

    Collection<Classifier> classifiers() {
        return classifiers.get();
    }

    int coordinationMembers() {
        return coordinationMembers.getAsInt();
    }

    int clientsConnected() {
        return clients.getAsInt();
    }

    Counter[] localStatements() {
        return local;
    }

    public LatencyHistogram statementLatency() {
        return statementLatency;
    }

    public LatencyHistogram transactionLatency() {
        return transactionLatency;
    }

    long replicaRetries() {
        return replicaRetries.getCount();
    }

    long fallbacks() {
        return fallbacks.getCount();
    }

    long causalChecks() {
        return causalChecks.getCount();
    }

    long causalPrimaryReads() {
        return causalPrimaryReads.getCount();
    }

    long globalPrimaryReads() {
        return globalPrimaryReads.getCount();
    }

    long replicaFailures() {
        return replicaFailures.getCount();
    }

    long primaryWaits() {
        return primaryWaits.getCount();
    }

    public long clientsAccepted() {
        return accepted.getCount();
    }

    public long clientsRefused() {
        return refused.getCount();
    }

    public long failovers() {
        return failovers.getCount();
    }

    public long switchovers() {
        return switchovers.getCount();
    }

    /** A CancelRequest for another instance's session was passed on, or could not be. Any thread. */
    public void cancelForwarded(ForwardedCancel result) {
        forwardedCancels[result.ordinal()].inc();
    }

    public long cancelsForwarded(ForwardedCancel result) {
        return forwardedCancels[result.ordinal()].getCount();
    }
}
