package io.pgrelay.core.coordination;

import io.pgrelay.core.cluster.ClusterState;
import io.pgrelay.core.cluster.Health;
import io.pgrelay.core.cluster.NodeStatus;
import io.pgrelay.core.cluster.Topology;
import io.pgrelay.core.config.ProxyConfig.NodeConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * Keeps this instance's {@link ClusterState} and the shared cluster record in step. Every instance
 * applies each record it sees: the named primary is the only node its sessions may write to
 * ({@link Topology#boundTo}), and fenced, drained and removed nodes get that state. The leader also
 * writes the record from what it did and saw: a new primary on a higher timeline (after its own
 * failover or switchover), fenced, drained and removed nodes, the replication mode. The first
 * leader seeds it from its own view. Nodes added or re-weighted at runtime travel in the record too:
 * an instance adds a node the record names and it lacks, and takes the record's weights.
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
    private final NodeList nodes;
    private final ExecutorService nodeChanges = Executors.newSingleThreadExecutor(r -> {
        Thread thread = new Thread(r, "pgrelay-record-nodes");
        thread.setDaemon(true);
        return thread;
    });

    /** This instance's node list, for what the record adds or takes away. */
    public interface NodeList {
        /** Starts routing to and probing a node the record names and this instance lacks; may block. */
        void add(NodeConfig node);

        /** Stops probing a node the record removed (its index stays reserved). */
        void drop(int index);
    }

    /** {@code seenDown}: the nodes this instance sees down for the detection window (its health report). */
    public RecordKeeper(ClusterState cluster, ModeAccess mode, Supplier<Set<String>> seenDown, NodeList nodes) {
        this.cluster = cluster;
        this.mode = mode;
        this.seenDown = seenDown;
        this.nodes = nodes;
    }

    void close() {
        nodeChanges.shutdownNow();
    }

    Set<String> seenDown() {
        return seenDown.get();
    }

    ClusterState cluster() {
        return cluster;
    }

    /** A record was read or watched: route by it. On jetcd's executor; never blocks. */
    void apply(ClusterRecord record) {
        Topology[] before = new Topology[1];
        Topology after = cluster.update(topology -> {
            before[0] = topology;
            return applied(topology, record);
        });
        mode.adopt(record.mode(), record.acks());
        log.info("coordination: cluster record epoch {}: primary {}, fenced {}, drained {} -> {}", record.epoch(),
                record.primary() == null ? "(none)" : record.primary(), record.fenced(), record.drained(), after);
        List<Integer> dropped = new ArrayList<>();
        for (NodeStatus node : after.nodes()) {
            if (node.health() == Health.REMOVED && before[0].nodes().get(node.index()).health() != Health.REMOVED) {
                dropped.add(node.index());
            }
        }
        List<NodeConfig> missing = record.nodes().stream()
                .filter(n -> after.node(n.name()) == null && !record.removed().contains(n.name())).toList();
        if (!dropped.isEmpty() || !missing.isEmpty()) {
            // Adding a node probes it: off jetcd's threads, one change at a time, re-checked when it runs.
            nodeChanges.execute(() -> {
                dropped.forEach(nodes::drop);
                for (NodeConfig node : missing) {
                    if (cluster.current().node(node.name()) == null) {
                        log.info("coordination: the cluster record names node {} ({}:{}): adding it", node.name(),
                                node.host(), node.port());
                        nodes.add(node);
                    }
                }
            });
        }
    }

    /**
     * Routing under {@code record}. A node is known by its name: an instance keeps reaching a node
     * it has at the address of its own configuration (instances may reach one server by different
     * addresses), and takes the record's weight for it.
     */
    static Topology applied(Topology topology, ClusterRecord record) {
        Topology result = topology;
        for (NodeStatus node : topology.nodes()) {
            Health wanted = wantedHealth(node, record);
            NodeConfig named = record.node(node.name());
            NodeStatus changed = result.node(node.index());
            if (wanted != node.health()) {
                changed = changed.withHealth(wanted);
            }
            if (named != null && wanted != Health.REMOVED && !named.weight().equals(node.config().weight())) {
                changed = changed.withConfig(new NodeConfig(node.name(), node.host(), node.port(), named.weight()));
            }
            if (changed != result.node(node.index())) {
                result = result.with(changed);
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
        Set<String> known = new TreeSet<>();
        List<NodeConfig> nodes = new ArrayList<>();
        for (NodeStatus node : topology.nodes()) {
            known.add(node.name());
            switch (node.health()) {
                case FENCED -> fenced.add(node.name());
                case DRAINED -> drained.add(node.name());
                case REMOVED -> removed.add(node.name());
                default -> {
                }
            }
            if (node.health() != Health.REMOVED) {
                nodes.add(node.config());
            }
        }
        // A node removed and added again under its name (a new address) is live, not removed.
        nodes.forEach(n -> removed.remove(n.name()));
        if (current != null) {
            // What the record says of nodes this instance has not taken in yet (it adds them
            // asynchronously, or never had them) stays said: a new leader does not drop them.
            current.nodes().stream().filter(n -> !known.contains(n.name())).forEach(nodes::add);
            current.removed().stream().filter(n -> !known.contains(n)).forEach(removed::add);
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
        return new ClusterRecord(epoch, primary, timeline, fenced, drained, removed, mode, acks, nodes);
    }
}
