package io.pgrelay.core.metrics;

import com.codahale.metrics.MetricRegistry;
import io.pgrelay.core.cluster.Health;
import io.pgrelay.core.cluster.NodeStatus;
import io.pgrelay.core.cluster.Topology;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The per-node counters, following the cluster: metrics for a node that appears, none left for
 * one that is removed, and the node's up and down transitions counted as the topology reports
 * them. Looked up by node index on the hot path (an array replaced, never mutated, when the
 * node list changes) and by name for the console.
 */
final class NodeMetricsTable {
    private final MetricRegistry registry;
    private volatile NodeMetrics[] byIndex = new NodeMetrics[0];
    private final Map<String, NodeMetrics> byName = new HashMap<>();
    private long lastVersion = -1;

    NodeMetricsTable(MetricRegistry registry) {
        this.registry = registry;
    }

    /** The counters of node {@code index}, null while the node list changes or for no node. */
    NodeMetrics node(int index) {
        NodeMetrics[] nodes = byIndex;
        return index >= 0 && index < nodes.length ? nodes[index] : null;
    }

    /** By node index, for the export; an entry may be null while the node list changes. */
    NodeMetrics[] nodes() {
        return byIndex;
    }

    synchronized NodeMetrics byName(String name) {
        return byName.get(name);
    }

    /** The cluster changed: count health transitions, register metrics of new nodes, drop removed ones. */
    synchronized void onTopology(Topology topology) {
        if (topology.version() < lastVersion) {
            return;
        }
        lastVersion = topology.version();
        List<NodeStatus> nodes = topology.nodes();
        boolean changed = byIndex.length != nodes.size();
        for (NodeStatus node : nodes) {
            NodeMetrics metrics = byName.get(node.name());
            if (metrics == null) {
                metrics = new NodeMetrics(node.name(), sanitize(node.name()), registry);
                byName.put(node.name(), metrics);
                changed = true;
            } else if (node.index() >= byIndex.length || byIndex[node.index()] != metrics) {
                changed = true;
            }
            countTransition(metrics, node);
        }
        if (!changed) {
            return;
        }
        NodeMetrics[] fresh = new NodeMetrics[nodes.size()];
        Map<String, NodeMetrics> gone = new HashMap<>(byName);
        for (NodeStatus node : nodes) {
            NodeMetrics metrics = byName.get(node.name());
            if (node.index() < fresh.length) {
                fresh[node.index()] = metrics;
            }
            gone.remove(node.name());
        }
        for (NodeMetrics removed : gone.values()) {
            byName.remove(removed.name);
            registry.removeMatching((name, metric) -> name.startsWith("pgrelay.node." + removed.key + ".")
                    || name.equals(ProxyMetrics.REPLICA_READS + removed.key));
        }
        byIndex = fresh;
    }

    private static void countTransition(NodeMetrics metrics, NodeStatus node) {
        boolean probed = node.observedAtMillis() != 0;
        Health before = metrics.lastHealth;
        metrics.lastHealth = node.health();
        if (!probed) {
            return;
        }
        if (!metrics.probed) {
            metrics.probed = true;
            if (node.health() == Health.DOWN) {
                metrics.downTransitions.inc();
            }
            return;
        }
        if (before != Health.DOWN && node.health() == Health.DOWN) {
            metrics.downTransitions.inc();
        } else if (before == Health.DOWN && node.health() != Health.DOWN) {
            metrics.upTransitions.inc();
        }
    }

    /** Keeps Dropwizard names dot-separated whatever a node is called (Prometheus sees the name as a label). */
    static String sanitize(String name) {
        StringBuilder sb = new StringBuilder(name.length());
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            sb.append(c < 128 && (Character.isLetterOrDigit(c) || c == '_') ? c : '_');
        }
        return sb.toString();
    }
}
