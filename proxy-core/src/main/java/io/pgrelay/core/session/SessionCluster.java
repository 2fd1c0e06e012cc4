package io.pgrelay.core.session;

import io.pgrelay.core.cluster.Ban;
import io.pgrelay.core.cluster.ClusterState;
import io.pgrelay.core.cluster.NodeProbes;
import io.pgrelay.core.cluster.NodeStatus;
import io.pgrelay.core.cluster.Role;
import io.pgrelay.core.cluster.Topology;

/** The cluster as sessions see it: the current topology, and what they tell the monitor. */
final class SessionCluster {
    private final ClusterState state;
    private final NodeProbes monitor;
    private final long banMillis;

    SessionCluster(ClusterState state, NodeProbes monitor, long banMillis) {
        this.state = state;
        this.monitor = monitor;
        this.banMillis = banMillis;
    }

    Topology topology() {
        return state.routable();
    }

    /** The topology whatever this instance's write lease says: for logging in, which writes nothing. */
    Topology loginTopology() {
        return state.current();
    }

    /** Whether this instance refuses writes now because its coordination lease is not fresh. */
    boolean writesSuspended() {
        return !state.writable();
    }

    /** The session lost or could not reach this node: the monitor should look now. */
    void probeSoon(int node) {
        monitor.probeSoon(node);
    }

    /**
     * A replica failed this session in a way every session would meet (a connect timeout, a
     * frozen server): it takes no reads from anyone for the ban time ({@link Ban}), and the
     * monitor looks at it now.
     */
    void ban(int index, Ban.Cause cause, String detail) {
        state.ban(index, cause, detail, banMillis);
        probeSoon(index);
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
        NodeStatus primary = state.routable().primary();
        return primary != null && primary.index() == node;
    }

    /** The primary's index, or -1 while there is none. */
    int primaryIndex() {
        NodeStatus primary = state.routable().primary();
        return primary == null ? -1 : primary.index();
    }
}
