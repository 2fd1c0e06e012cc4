package io.pgrelay.core.coordination;

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
 */
public record ClusterRecord(long epoch, String primary, long timeline, Set<String> fenced, Set<String> drained,
                            Set<String> removed, String mode, int acks) {
    public ClusterRecord {
        fenced = Set.copyOf(new TreeSet<>(fenced));
        drained = Set.copyOf(new TreeSet<>(drained));
        removed = Set.copyOf(new TreeSet<>(removed));
        mode = mode == null ? "async" : mode;
    }

    /** The same record under the next epoch. */
    public ClusterRecord next() {
        return new ClusterRecord(epoch + 1, primary, timeline, fenced, drained, removed, mode, acks);
    }

    /** Whether {@code other} says the same about the cluster, whatever its epoch. */
    public boolean sameStateAs(ClusterRecord other) {
        return other != null && java.util.Objects.equals(primary, other.primary) && timeline == other.timeline
                && fenced.equals(other.fenced) && drained.equals(other.drained) && removed.equals(other.removed)
                && mode.equals(other.mode) && acks == other.acks;
    }

    public ClusterRecord withEpoch(long epoch) {
        return new ClusterRecord(epoch, primary, timeline, fenced, drained, removed, mode, acks);
    }
}
