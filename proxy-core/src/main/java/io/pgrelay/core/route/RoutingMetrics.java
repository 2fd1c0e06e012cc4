package io.pgrelay.core.route;

import com.codahale.metrics.Counter;
import com.codahale.metrics.MetricRegistry;
import io.pgrelay.core.ProxyContext;
import io.pgrelay.core.cluster.NodeStatus;

import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Routing counters, resolved once per registry so that counting a statement is one
 * increment (no lookups, no string building on the hot path). Names are documented in
 * docs/metrics.md.
 */
public final class RoutingMetrics {
    private static final ConcurrentHashMap<MetricRegistry, RoutingMetrics> BY_REGISTRY = new ConcurrentHashMap<>();

    private final MetricRegistry registry;
    private volatile Counter[] replicaReads;
    private final Counter fallbacks;
    private final Counter causalChecks;
    private final Counter causalFallbacks;
    private final Counter standbyRetries;
    private final Counter replicaFailures;
    private final Counter primaryWaits;
    private final ProxyContext context;

    private RoutingMetrics(ProxyContext context) {
        this.context = context;
        this.registry = context.metrics();
        this.fallbacks = registry.counter("pgrelay.routing.fallbacks_to_primary");
        this.causalChecks = registry.counter("pgrelay.routing.causal_checks");
        this.causalFallbacks = registry.counter("pgrelay.routing.causal_primary_reads");
        this.standbyRetries = registry.counter("pgrelay.routing.replica_retries");
        this.replicaFailures = registry.counter("pgrelay.routing.replica_failures");
        this.primaryWaits = registry.counter("pgrelay.routing.primary_waits");
        this.replicaReads = new Counter[0];
    }

    /** The metrics of the context's registry; a no-op instance when the context has no registry (unit tests). */
    public static RoutingMetrics of(ProxyContext context) {
        if (context.metrics() == null) {
            return new RoutingMetrics(new ProxyContext(context.config(), context.cluster(), null, null, null, null,
                    null, null, null, new MetricRegistry(), null, null, null, null, null, null));
        }
        return BY_REGISTRY.computeIfAbsent(context.metrics(), registry -> new RoutingMetrics(context));
    }

    public void replicaRead(int nodeIndex) {
        Counter[] counters = replicaReads;
        if (nodeIndex >= counters.length) {
            counters = grow(nodeIndex + 1);
        }
        counters[nodeIndex].inc();
    }

    private synchronized Counter[] grow(int size) {
        Counter[] counters = replicaReads;
        if (counters.length >= size) {
            return counters;
        }
        List<NodeStatus> nodes = context.cluster().current().nodes();
        Counter[] grown = java.util.Arrays.copyOf(counters, Math.max(size, nodes.size()));
        for (int i = counters.length; i < grown.length; i++) {
            String name = i < nodes.size() ? nodes.get(i).name() : "node" + i;
            grown[i] = registry.counter("pgrelay.routing.replica_reads." + name);
        }
        replicaReads = grown;
        return grown;
    }

    public void fallback() {
        fallbacks.inc();
    }

    public void causalCheck() {
        causalChecks.inc();
    }

    public void causalFallback() {
        causalFallbacks.inc();
    }

    public void standbyRetry() {
        standbyRetries.inc();
    }

    public void replicaFailure() {
        replicaFailures.inc();
    }

    public void primaryWait() {
        primaryWaits.inc();
    }
}
