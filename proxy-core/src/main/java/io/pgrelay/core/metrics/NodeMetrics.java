package io.pgrelay.core.metrics;

import com.codahale.metrics.Counter;
import com.codahale.metrics.MetricRegistry;
import io.pgrelay.core.classify.Route;
import io.pgrelay.core.classify.StatementKind;
import io.pgrelay.core.cluster.Health;

/** One node's counters, registered under {@code pgrelay.node.<key>.}; updated by every event loop. */
final class NodeMetrics {
    final String name;
    final String key;
    final Counter[][] statements = new Counter[ProxyMetrics.ROUTES.length][ProxyMetrics.KINDS.length];
    final Counter bytesSent;
    final Counter bytesReceived;
    final Counter replicaReads;
    final Counter upTransitions;
    final Counter downTransitions;
    /** As the last topology showed it; written under the table's lock. */
    Health lastHealth;
    boolean probed;

    NodeMetrics(String name, String key, MetricRegistry registry) {
        this.name = name;
        this.key = key;
        String base = "pgrelay.node." + key + ".";
        for (Route route : ProxyMetrics.ROUTES) {
            for (StatementKind kind : ProxyMetrics.KINDS) {
                statements[route.ordinal()][kind.ordinal()] = registry.counter(
                        base + "statements." + route.jsonName() + "." + kind.jsonName());
            }
        }
        bytesSent = registry.counter(base + "bytes_sent");
        bytesReceived = registry.counter(base + "bytes_received");
        replicaReads = registry.counter(ProxyMetrics.REPLICA_READS + key);
        upTransitions = registry.counter(base + "up_transitions");
        downTransitions = registry.counter(base + "down_transitions");
    }

    long statements() {
        long sum = 0;
        for (Counter[] byKind : statements) {
            for (Counter counter : byKind) {
                sum += counter.getCount();
            }
        }
        return sum;
    }

    long statements(Route route) {
        long sum = 0;
        for (Counter counter : statements[route.ordinal()]) {
            sum += counter.getCount();
        }
        return sum;
    }
}
