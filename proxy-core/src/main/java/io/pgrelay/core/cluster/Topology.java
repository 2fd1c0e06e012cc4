package io.pgrelay.core.cluster;

import java.util.ArrayList;
import java.util.List;

/**
 * An immutable snapshot of the cluster: every configured node with its observed role and
 * health. The router reads the current snapshot without locks; the monitor swaps in a new
 * one after each round.
 */
public final class Topology {
    private final List<NodeStatus> nodes;
    private final NodeStatus primary;
    private final long version;

    public Topology(List<NodeStatus> nodes, long version) {
        this.nodes = List.copyOf(nodes);
        this.version = version;
        NodeStatus found = null;
        for (NodeStatus node : this.nodes) {
            if (node.role() == Role.PRIMARY && node.isUp()) {
                found = found == null || node.timeline() > found.timeline() ? node : found;
            }
        }
        this.primary = found;
    }

    public List<NodeStatus> nodes() {
        return nodes;
    }

    /** The node taking writes, or null while none is known to be up. */
    public NodeStatus primary() {
        return primary;
    }

    public List<NodeStatus> replicas() {
        List<NodeStatus> replicas = new ArrayList<>();
        for (NodeStatus node : nodes) {
            if (node.role() == Role.REPLICA) {
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
            if (node.name().equals(name)) {
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
        return new Topology(copy, version + 1);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Topology{v").append(version);
        for (NodeStatus node : nodes) {
            sb.append(", ").append(node.name()).append('=').append(node.role().label()).append('/')
                    .append(node.health().label());
        }
        return sb.append('}').toString();
    }
}
