package io.pgrelay.core.route;

import io.pgrelay.core.cluster.NodeStatus;
import io.pgrelay.core.cluster.Role;
import io.pgrelay.core.cluster.Topology;

import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Picks the replica for a read: weighted round-robin (default) or least outstanding
 * requests (per node, relative to weight). Only replicas the topology marks usable for reads
 * take part; when none does, the caller falls back. Lock-free; shared by all event loops.
 */
public final class ReplicaBalancer {
    public enum Strategy { ROUND_ROBIN, LEAST_OUTSTANDING }

    /** Nodes a cluster may have over its lifetime (removed ones keep their index). */
    public static final int MAX_NODES = 64;

    private final Strategy strategy;
    private final AtomicLong ticket = new AtomicLong();
    private final AtomicIntegerArray outstanding = new AtomicIntegerArray(MAX_NODES);

    public ReplicaBalancer(Strategy strategy) {
        this.strategy = strategy;
    }

    public static ReplicaBalancer of(String strategy) {
        return new ReplicaBalancer("least-outstanding".equals(strategy) ? Strategy.LEAST_OUTSTANDING
                : Strategy.ROUND_ROBIN);
    }

    /** The replica to read from, or null when no replica can take reads. */
    public NodeStatus pick(Topology topology, ReadEligibility eligibility) {
        return strategy == Strategy.ROUND_ROBIN ? roundRobin(topology, eligibility) : leastOutstanding(topology, eligibility);
    }

    private NodeStatus roundRobin(Topology topology, ReadEligibility eligibility) {
        // Indexed loops: this runs for every read, and an iterator here was its one allocation.
        List<NodeStatus> nodes = topology.nodes();
        int totalWeight = 0;
        for (int i = 0; i < nodes.size(); i++) {
            NodeStatus node = nodes.get(i);
            if (eligible(node, eligibility)) {
                totalWeight += node.config().weight();
            }
        }
        if (totalWeight == 0) {
            return null;
        }
        long slot = Math.floorMod(ticket.getAndIncrement(), (long) totalWeight);
        for (int i = 0; i < nodes.size(); i++) {
            NodeStatus node = nodes.get(i);
            if (eligible(node, eligibility)) {
                slot -= node.config().weight();
                if (slot < 0) {
                    return node;
                }
            }
        }
        return null;
    }

    private NodeStatus leastOutstanding(Topology topology, ReadEligibility eligibility) {
        NodeStatus best = null;
        double bestScore = Double.MAX_VALUE;
        long start = ticket.getAndIncrement();
        int count = topology.nodes().size();
        for (int i = 0; i < count; i++) {
            // Start at a rotating offset so ties spread evenly.
            NodeStatus node = topology.nodes().get((int) Math.floorMod(start + i, (long) count));
            if (!eligible(node, eligibility) || node.config().weight() == 0) {
                continue;
            }
            double score = (outstanding(node.index()) + 1.0) / node.config().weight();
            if (score < bestScore) {
                bestScore = score;
                best = node;
            }
        }
        return best;
    }

    private static boolean eligible(NodeStatus node, ReadEligibility eligibility) {
        return node.role() == Role.REPLICA && node.config().weight() > 0 && eligibility.canRead(node);
    }

    public void started(int nodeIndex) {
        if (nodeIndex < MAX_NODES) {
            outstanding.incrementAndGet(nodeIndex);
        }
    }

    public void finished(int nodeIndex) {
        if (nodeIndex < MAX_NODES) {
            outstanding.decrementAndGet(nodeIndex);
        }
    }

    public int outstanding(int nodeIndex) {
        return nodeIndex < MAX_NODES ? outstanding.get(nodeIndex) : 0;
    }

    /** Whether a replica may take reads now (health, lag, consistency). */
    @FunctionalInterface
    public interface ReadEligibility {
        boolean canRead(NodeStatus node);
    }
}
