package io.pgrelay.core.ops;

import io.pgrelay.core.cluster.ClusterMonitor;
import io.pgrelay.core.cluster.ClusterState;
import io.pgrelay.core.cluster.Health;
import io.pgrelay.core.cluster.NodeStatus;
import io.pgrelay.core.cluster.Topology;
import io.pgrelay.core.config.ProxyConfig.NodeConfig;
import io.pgrelay.core.ops.OperationException.Kind;
import io.pgrelay.core.route.ReplicaBalancer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator's changes to the node list and to a node's standing: add, remove, drain, enable,
 * fence, unfence. Each takes the operation lock, records its steps, and re-applies the
 * replication mode when the set of standbys changed.
 */
final class NodeChanges {
    private static final Logger log = LoggerFactory.getLogger(PgClusterOperations.class);

    private final ClusterState cluster;
    private final ClusterMonitor monitor;
    private final OperationLock lock;
    private final ReplicationModeControl modes;

    NodeChanges(ClusterState cluster, ClusterMonitor monitor, OperationLock lock, ReplicationModeControl modes) {
        this.cluster = cluster;
        this.monitor = monitor;
        this.lock = lock;
        this.modes = modes;
    }

    OperationResult add(NodeConfig node, String actor) {
        lock.acquire("add node");
        try {
            Topology topology = cluster.current();
            if (topology.node(node.name()) != null) {
                throw new OperationException(Kind.CONFLICT, "a node named '" + node.name() + "' exists already");
            }
            if (topology.nodes().size() >= ReplicaBalancer.MAX_NODES) {
                throw new OperationException(Kind.CONFLICT, "at most " + ReplicaBalancer.MAX_NODES
                        + " nodes (removed ones included)");
            }
            Steps steps = new Steps("add node " + node.name(), actor);
            int index = cluster.addNode(node);
            steps.run("add " + node.name() + " as node #" + index, () -> {
                monitor.addNode(index, node);
                NodeStatus added = cluster.current().node(index);
                return added.role().label() + ", " + added.health().label()
                        + (added.lastError() == null ? "" : " (" + added.lastError() + ")");
            });
            modes.reapply(steps);
            return steps.success();
        } finally {
            lock.release();
        }
    }

    OperationResult remove(String name, String actor) {
        lock.acquire("remove node");
        try {
            NodeStatus node = requireNode(cluster.current(), name);
            requireNotPrimary(node, "remove");
            Steps steps = new Steps("remove node " + name, actor);
            steps.run("remove " + name, () -> {
                setHealth(node.index(), Health.REMOVED);
                monitor.removeNode(node.index());
                return "no new work; sessions using it finish";
            });
            modes.reapply(steps);
            return steps.success();
        } finally {
            lock.release();
        }
    }

    /** {@code target} null: back from DRAINED (enable) or FENCED (unfence) to what the next probe says. */
    OperationResult changeHealth(String operation, String name, String actor, Health target) {
        lock.acquire(operation);
        try {
            NodeStatus node = requireNode(cluster.current(), name);
            Health from = target == null ? (operation.equals("enable") ? Health.DRAINED : Health.FENCED) : null;
            if (target == Health.DRAINED || target == Health.FENCED) {
                requireNotPrimary(node, operation);
            }
            if (target == Health.DRAINED && node.health() == Health.FENCED) {
                throw new OperationException(Kind.CONFLICT, name + " is fenced; unfence it first");
            }
            if (from == Health.DRAINED && node.health() == Health.FENCED) {
                throw new OperationException(Kind.CONFLICT, name + " is fenced; use unfence");
            }
            Steps steps = new Steps(operation + " " + name, actor);
            if (target != null) {
                steps.run(operation + " " + name, () -> {
                    setHealth(node.index(), target);
                    return node.health().label() + " -> " + target.label();
                });
            } else if (node.health() != from) {
                steps.skipped(operation + " " + name, "it is " + node.health().label());
            } else {
                steps.run(operation + " " + name, () -> {
                    setHealth(node.index(), node.consecutiveFailures() == 0 && node.observedAtMillis() != 0
                            ? Health.UP : Health.DOWN);
                    monitor.probe(node.index());
                    NodeStatus now = cluster.current().node(node.index());
                    return now.role().label() + ", " + now.health().label();
                });
            }
            if (target == Health.FENCED || from == Health.FENCED) {
                modes.reapply(steps);
            }
            return steps.success();
        } finally {
            lock.release();
        }
    }

    static NodeStatus requireNode(Topology topology, String name) {
        NodeStatus node = name == null ? null : topology.node(name);
        if (node == null) {
            throw new OperationException(Kind.NOT_FOUND, "no node named '" + name + "'");
        }
        return node;
    }

    private void requireNotPrimary(NodeStatus node, String operation) {
        NodeStatus primary = cluster.current().primary();
        if (primary != null && primary.index() == node.index()) {
            throw new OperationException(Kind.CONFLICT, "cannot " + operation + " " + node.name()
                    + ": it is the primary; switch over first");
        }
    }

    /** Operator-set health is kept by the monitor until changed here. */
    void setHealth(int index, Health health) {
        cluster.update(topology -> {
            NodeStatus node = topology.node(index);
            if (node.health() == health) {
                return topology;
            }
            log.info("node {} is now {} (was {})", node.name(), health.label(), node.health().label());
            return topology.with(node.withHealth(health));
        });
    }
}
