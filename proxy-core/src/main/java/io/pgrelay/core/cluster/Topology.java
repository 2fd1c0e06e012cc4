package io.pgrelay.core.cluster;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * An immutable snapshot of the cluster: every configured node with its observed role and
 * health. The router reads the current snapshot without locks; the monitor swaps in a new
 * one after each round.
 */
public final class Topology {
    private final List<NodeStatus> nodes;
    private final NodeStatus primary;
    private final List<NodeStatus> primaries;
    private final NodeStatus observed;
    private final boolean splitBrain;
    private final long version;
    /** With coordination: the only node the cluster record lets take writes (null = none); see {@link #bound}. */
    private final String recordPrimary;
    private final boolean bound;
    /** This snapshot with no primary (see {@link #withoutWrites}), made once when first asked. */
    private volatile Topology withoutWrites;

    /**
     * The primary is the usable node that reports not being in recovery. When several do, the
     * one on the highest timeline wins (the others are stale primaries from before a
     * promotion); when the highest timeline is shared, nobody is primary and writes are refused
     * until an operator fences all but one ({@link #splitBrain()}).
     */
    public Topology(List<NodeStatus> nodes, long version) {
        this(nodes, version, false, null);
    }

    private Topology(List<NodeStatus> nodes, long version, boolean bound, String recordPrimary) {
        this.nodes = List.copyOf(nodes);
        this.version = version;
        this.bound = bound;
        this.recordPrimary = recordPrimary;
        List<NodeStatus> claiming = new ArrayList<>();
        NodeStatus found = null;
        boolean tie = false;
        for (NodeStatus node : this.nodes) {
            if (node.role() == Role.PRIMARY && node.isUp()) {
                claiming.add(node);
                if (found == null || node.timeline() > found.timeline()) {
                    found = node;
                    tie = false;
                } else if (node.timeline() == found.timeline()) {
                    tie = true;
                }
            }
        }
        this.primaries = List.copyOf(claiming);
        this.splitBrain = tie;
        this.observed = tie ? null : found;
        // Bound to a cluster record, a node takes writes only if the record names it too: an
        // instance never writes to a node it alone believes to be primary.
        this.primary = bound && (observed == null || !observed.name().equals(recordPrimary)) ? null : observed;
    }

    /**
     * This topology routing writes only to {@code name} (null: to no node), as the shared cluster
     * record says; the node must also be seen up as primary.
     */
    public Topology boundTo(String name) {
        if (bound && Objects.equals(name, recordPrimary)) {
            return this;
        }
        return new Topology(nodes, version + 1, true, name);
    }

    /**
     * The same snapshot (same version: nothing about the nodes changed) with no primary, for an
     * instance that may not write now ({@link ClusterState#routable()}).
     */
    public Topology withoutWrites() {
        Topology made = withoutWrites;
        if (made == null) {
            made = primary == null ? this : new Topology(nodes, version, true, null);
            withoutWrites = made;
        }
        return made;
    }

    /** Whether writes follow a cluster record ({@link #boundTo}); false standalone. */
    public boolean bound() {
        return bound;
    }

    /** The primary the cluster record names (meaningful when {@link #bound()}); null = none. */
    public String recordPrimary() {
        return recordPrimary;
    }

    /** The primary as the probes see it, whatever a cluster record says; null as for {@link #primary()}. */
    public NodeStatus observedPrimary() {
        return observed;
    }

    public List<NodeStatus> nodes() {
        return nodes;
    }

    /** The node taking writes, or null while none is known to be up (or during an unresolved split brain). */
    public NodeStatus primary() {
        return primary;
    }

    /** Every usable node that reports not being in recovery; more than one means split brain. */
    public List<NodeStatus> claimedPrimaries() {
        return primaries;
    }

    /** Two or more usable primaries on the same, highest timeline: writes are refused until an operator decides. */
    public boolean splitBrain() {
        return splitBrain;
    }

    /** The nodes an operator sees: all but the removed ones. */
    public List<NodeStatus> visibleNodes() {
        List<NodeStatus> visible = new ArrayList<>();
        for (NodeStatus node : nodes) {
            if (node.health() != Health.REMOVED) {
                visible.add(node);
            }
        }
        return visible;
    }

    public List<NodeStatus> replicas() {
        List<NodeStatus> replicas = new ArrayList<>();
        for (NodeStatus node : nodes) {
            if (node.role() == Role.REPLICA && node.health() != Health.REMOVED) {
                replicas.add(node);
            }
        }
        return replicas;
    }

    public NodeStatus node(int index) {
        return nodes.get(index);
    }

    public NodeStatus node(String name) {
        for (NodeStatus node : nodes) {
            if (node.name().equals(name) && node.health() != Health.REMOVED) {
                return node;
            }
        }
        return null;
    }

    public long version() {
        return version;
    }

    public Topology with(NodeStatus changed) {
        List<NodeStatus> copy = new ArrayList<>(nodes);
        copy.set(changed.index(), changed);
        return new Topology(copy, version + 1, bound, recordPrimary);
    }

    /** Appends a node at the next index; existing indexes never change. */
    public Topology withAdded(NodeStatus added) {
        if (added.index() != nodes.size()) {
            throw new IllegalArgumentException("new node index " + added.index() + " != " + nodes.size());
        }
        List<NodeStatus> copy = new ArrayList<>(nodes);
        copy.add(added);
        return new Topology(copy, version + 1, bound, recordPrimary);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Topology{v").append(version);
        if (bound) {
            sb.append(", record primary ").append(recordPrimary == null ? "(none)" : recordPrimary);
        }
        for (NodeStatus node : nodes) {
            sb.append(", ").append(node.name()).append('=').append(node.role().label()).append('/')
                    .append(node.health().label());
        }
        return sb.append('}').toString();
    }
}
