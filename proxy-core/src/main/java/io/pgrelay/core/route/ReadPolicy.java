package io.pgrelay.core.route;

import io.pgrelay.core.cluster.NodeStatus;
import io.pgrelay.core.config.ProxyConfig.RoutingConfig;

/**
 * Which replicas may take reads: up, and not further behind than
 * {@code routing.max-replica-lag} (time) and {@code routing.max-replica-lag-bytes}.
 */
public final class ReadPolicy implements ReplicaBalancer.ReadEligibility {
    private final long maxLagMillis;
    private final long maxLagBytes;

    public ReadPolicy(RoutingConfig routing) {
        this.maxLagMillis = routing.maxReplicaLag().toMillis();
        this.maxLagBytes = routing.maxReplicaLagBytes() != null ? routing.maxReplicaLagBytes() : Long.MAX_VALUE;
    }

    @Override
    public boolean canRead(NodeStatus node) {
        if (!node.isUp()) {
            return false;
        }
        if (node.lagMillis() > maxLagMillis) {
            return false;
        }
        return node.lagBytes() <= maxLagBytes;
    }
}
