package io.pgrelay.core.coordination;

import io.pgrelay.core.config.ProxyConfig.NodeConfig;

import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * The one cluster record every instance routes by ({@code <prefix>/cluster}): written only by the
 * leader, each change with a compare-and-swap on the key's revision and a new {@code epoch}.
 *
 * @param epoch    bumped by every change; an instance compares epochs, never wall-clock times
 * @param primary  the only node any instance may send writes to; null = none (writes refused)
 * @param timeline the primary's timeline as the leader saw it, 0 when unknown
 * @param fenced   nodes no instance routes to
 * @param drained  nodes that get no new work
 * @param removed  nodes removed at runtime
 * @param mode     replication mode in force ({@code async}, {@code semi-sync}, {@code sync})
 * @param acks     standby acknowledgements the mode waits for
 * @param nodes    the leader's nodes (address and weight), so nodes added or re-weighted at runtime
 *                 reach every instance; sorted by name
 */
public record ClusterRecord(long epoch, String primary, long timeline, Set<String> fenced, Set<String> drained,
                            Set<String> removed, String mode, int acks, List<NodeConfig> nodes) {
    public ClusterRecord {
        fenced = Set.copyOf(new TreeSet<>(fenced));
        drained = Set.copyOf(new TreeSet<>(drained));
        removed = Set.copyOf(new TreeSet<>(removed));
        mode = mode == null ? "async" : mode;
        nodes = nodes.stream().sorted(Comparator.comparing(NodeConfig::name)).toList();
    }

    /** The same record under the next epoch. */
    public ClusterRecord next() {
        return withEpoch(epoch + 1);
    }

    /** Whether {@code other} says the same about the cluster, whatever its epoch. */
    public boolean sameStateAs(ClusterRecord other) {
        return other != null && Objects.equals(primary, other.primary) && timeline == other.timeline
                && fenced.equals(other.fenced) && drained.equals(other.drained) && removed.equals(other.removed)
                && mode.equals(other.mode) && acks == other.acks && nodes.equals(other.nodes);
    }

    public ClusterRecord withEpoch(long epoch) {
        return new ClusterRecord(epoch, primary, timeline, fenced, drained, removed, mode, acks, nodes);
    }

    /** The same record naming {@code primary} (null: none) under the next epoch. */
    public ClusterRecord nextWithPrimary(String primary) {
        return new ClusterRecord(epoch + 1, primary, timeline, fenced, drained, removed, mode, acks, nodes);
    }

    /** The node the record names {@code name}, or null. */
    public NodeConfig node(String name) {
        for (NodeConfig node : nodes) {
            if (node.name().equals(name)) {
                return node;
            }
        }
        return null;
    }
}
