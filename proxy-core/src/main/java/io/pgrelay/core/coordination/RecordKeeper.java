package io.pgrelay.core.coordination;

import io.pgrelay.core.cluster.ClusterState;
import io.pgrelay.core.cluster.Health;
import io.pgrelay.core.cluster.NodeStatus;
import io.pgrelay.core.cluster.Topology;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * Keeps this instance's {@link ClusterState} and the shared cluster record in step. Every instance
 * applies each record it sees: the named primary is the only node its sessions may write to
 * ({@link Topology#boundTo}), and fenced, drained and removed nodes get that state. The leader also
 * writes the record from what it did and saw: a new primary on a higher timeline (after its own
 * failover or switchover), fenced, drained and removed nodes, the replication mode. The first
 * leader seeds it from its own view.
 */
public final class RecordKeeper {
    private static final Logger log = LoggerFactory.getLogger(RecordKeeper.class);

    /** The replication mode as the cluster operations hold it. */
    public interface ModeAccess {
        String mode();

        int acks();

        /** Takes the mode another instance set, without touching the nodes. */
        void adopt(String mode, int acks);
    }

    private final ClusterState cluster;
    private final ModeAccess mode;
    private final Supplier<Set<String>> seenDown;

    /** {@code seenDown}: the nodes this instance sees down for the detection window (its health report). */
    public RecordKeeper(ClusterState cluster, ModeAccess mode, Supplier<Set<String>> seenDown) {
        this.cluster = cluster;
        this.mode = mode;
        this.seenDown = seenDown;
    }

    Set<String> seenDown() {
        return seenDown.get();
    }

    ClusterState cluster() {
        return cluster;
    }

    /** A record was read or watched: route by it. On jetcd's executor; never blocks. */
    void apply(ClusterRecord record) {
        Topology after = cluster.update(topology -> applied(topology, record));
        mode.adopt(record.mode(), record.acks());
        log.info("coordination: cluster record epoch {}: primary {}, fenced {}, drained {} -> {}", record.epoch(),
                record.primary() == null ? "(none)" : record.primary(), record.fenced(), record.drained(), after);
    }

    static Topology applied(Topology topology, ClusterRecord record) {
        Topology result = topology;
        for (NodeStatus node : topology.nodes()) {
            Health wanted = wantedHealth(node, record);
            if (wanted != node.health()) {
                result = result.with(result.node(node.index()).withHealth(wanted));
            }
        }
        return result.boundTo(record.primary());
    }

    /** The node's state under {@code record}: the record's sticky state, or back from one it no longer names. */
    private static Health wantedHealth(NodeStatus node, ClusterRecord record) {
        if (record.removed().contains(node.name())) {
            return Health.REMOVED;
        }
        if (record.fenced().contains(node.name())) {
            return Health.FENCED;
        }
        if (record.drained().contains(node.name())) {
            return Health.DRAINED;
        }
        if (node.health() == Health.FENCED || node.health() == Health.DRAINED) {
            return node.consecutiveFailures() == 0 && node.observedAtMillis() != 0 ? Health.UP : Health.DOWN;
        }
        return node.health();
    }

    /**
     * What the leader's record should say now, from its topology and {@code current} (null when there
     * is none yet). The primary changes only to a node seen as primary on a higher timeline than the
     * record's: a primary the leader merely cannot reach stays named, and a record that names none
     * (a promotion under way) stays so until the promoted node is seen.
     */
    ClusterRecord wanted(ClusterRecord current) {
        return wanted(cluster.current(), current, mode.mode(), mode.acks());
    }

    static ClusterRecord wanted(Topology topology, ClusterRecord current, String mode, int acks) {
        Set<String> fenced = new TreeSet<>();
        Set<String> drained = new TreeSet<>();
        Set<String> removed = new TreeSet<>();
        for (NodeStatus node : topology.nodes()) {
            switch (node.health()) {
                case FENCED -> fenced.add(node.name());
                case DRAINED -> drained.add(node.name());
                case REMOVED -> removed.add(node.name());
                default -> {
                }
            }
        }
        String primary = current == null ? null : current.primary();
        long timeline = current == null ? 0 : current.timeline();
        NodeStatus seen = topology.observedPrimary();
        if (seen != null && !fenced.contains(seen.name())
                && (current == null || seen.timeline() > timeline || seen.name().equals(primary))) {
            primary = seen.name();
            timeline = seen.timeline();
        }
        long epoch = current == null ? 1 : current.epoch();
        return new ClusterRecord(epoch, primary, timeline, fenced, drained, removed, mode, acks);
    }
}
