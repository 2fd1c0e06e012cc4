package io.pgrelay.core.session;

import io.pgrelay.core.cluster.ClusterState;
import io.pgrelay.core.cluster.NodeProbes;
import io.pgrelay.core.cluster.NodeStatus;
import io.pgrelay.core.cluster.Role;
import io.pgrelay.core.cluster.Topology;

/** The cluster as sessions see it: the current topology, and what they tell the monitor. */
final class SessionCluster {
    private final ClusterState state;
    private final NodeProbes monitor;

    SessionCluster(ClusterState state, NodeProbes monitor) {
        this.state = state;
        this.monitor = monitor;
    }

    Topology topology() {
        return state.current();
    }

    /** The session lost or could not reach this node: the monitor should look now. */
    void probeSoon(int node) {
        monitor.probeSoon(node);
    }

    /**
     * A backend of the node taken for the primary reports being a standby: the node counts as
     * unknown (no writes) until the monitor, asked to probe it now, says what it is.
     */
    void distrustPrimary(int index) {
        state.update(topology -> {
            NodeStatus node = topology.node(index);
            return node.role() == Role.PRIMARY ? topology.with(node.withRole(Role.UNKNOWN)) : topology;
        });
        probeSoon(index);
    }

    boolean isPrimary(int node) {
        NodeStatus primary = state.current().primary();
        return primary != null && primary.index() == node;
    }

    /** The primary's index, or -1 while there is none. */
    int primaryIndex() {
        NodeStatus primary = state.current().primary();
        return primary == null ? -1 : primary.index();
    }
}
