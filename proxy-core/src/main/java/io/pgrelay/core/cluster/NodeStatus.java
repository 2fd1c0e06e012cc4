package io.pgrelay.core.cluster;

import io.pgrelay.core.config.ProxyConfig.NodeConfig;

/**
 * One node as last observed by the monitor. Immutable; a new instance replaces the old one
 * after every probe.
 *
 * @param index          position in the configured node list, stable for the node's lifetime
 * @param currentLsn     the primary's {@code pg_current_wal_lsn()}, 0 on replicas
 * @param receiveLsn     a replica's {@code pg_last_wal_receive_lsn()}
 * @param replayLsn      a replica's {@code pg_last_wal_replay_lsn()}
 * @param lagBytes       primary LSN minus replay LSN; 0 on the primary, -1 when unknown
 * @param lagMillis      replay delay; 0 when everything received is replayed, -1 when unknown
 * @param lastError      the last probe error, null after a success
 * @param ban            why and until when the node takes no new reads, null when it may
 */
public record NodeStatus(
        int index,
        NodeConfig config,
        Role role,
        Health health,
        int timeline,
        long currentLsn,
        long receiveLsn,
        long replayLsn,
        long lagBytes,
        long lagMillis,
        int consecutiveFailures,
        long observedAtMillis,
        String lastError,
        Ban ban) {

    public static NodeStatus initial(int index, NodeConfig config) {
        return new NodeStatus(index, config, Role.UNKNOWN, Health.DOWN, 0, 0, 0, 0, -1, -1, 0, 0, "not probed yet", null);
    }

    public String name() {
        return config.name();
    }

    public String host() {
        return config.host();
    }

    public int port() {
        return config.port();
    }

    /** Usable for new work of its role. */
    public boolean isUp() {
        return health == Health.UP && ban == null;
    }

    public NodeStatus withBan(Ban newBan) {
        return new NodeStatus(index, config, role, health, timeline, currentLsn, receiveLsn, replayLsn, lagBytes,
                lagMillis, consecutiveFailures, observedAtMillis, lastError, newBan);
    }

    /** The same server with new settings (a reload changed its weight). */
    public NodeStatus withConfig(NodeConfig newConfig) {
        return new NodeStatus(index, newConfig, role, health, timeline, currentLsn, receiveLsn, replayLsn, lagBytes,
                lagMillis, consecutiveFailures, observedAtMillis, lastError, ban);
    }

    public NodeStatus withHealth(Health newHealth) {
        return new NodeStatus(index, config, role, newHealth, timeline, currentLsn, receiveLsn, replayLsn, lagBytes,
                lagMillis, consecutiveFailures, observedAtMillis, lastError, ban);
    }

    public NodeStatus withRole(Role newRole) {
        return new NodeStatus(index, config, newRole, health, timeline, currentLsn, receiveLsn, replayLsn, lagBytes,
                lagMillis, consecutiveFailures, observedAtMillis, lastError, ban);
    }

    public NodeStatus withLag(long newLagBytes, long newLagMillis) {
        return new NodeStatus(index, config, role, health, timeline, currentLsn, receiveLsn, replayLsn, newLagBytes,
                newLagMillis, consecutiveFailures, observedAtMillis, lastError, ban);
    }
}
