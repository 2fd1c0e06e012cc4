package io.pgrelay.core.ops;

import io.pgrelay.core.cluster.Lsn;
import io.pgrelay.core.cluster.NodeStatus;
import io.pgrelay.core.config.ProxyConfig.NodeConfig;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;

/**
 * The SQL that failover, switchover and the replication modes run on the nodes: promotion,
 * re-pointing a standby at a new primary (slot and {@code primary_conninfo}), read-only mode,
 * waiting for replay. Blocking JDBC, on the operations' own threads only.
 */
final class StandbySql {
    static final Duration SQL_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration PROMOTE_TIMEOUT = Duration.ofSeconds(40);

    private final NodeSql sql;

    StandbySql(NodeSql sql) {
        this.sql = sql;
    }

    Connection connect(NodeConfig node) throws SQLException {
        return sql.connect(node, SQL_TIMEOUT);
    }

    Connection connect(NodeConfig node, Duration timeout) throws SQLException {
        return sql.connect(node, timeout);
    }

    /** {@code pg_promote}, waiting for it; returns the new timeline. */
    String promote(NodeConfig node) throws SQLException {
        try (Connection c = sql.connect(node, PROMOTE_TIMEOUT)) {
            String done = NodeSql.queryString(c, "SELECT pg_promote(true, 30)");
            if (!"t".equals(done) && !"true".equals(done)) {
                throw new SQLException("pg_promote did not finish within 30 s");
            }
            return "timeline " + NodeSql.queryString(c,
                    "SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int");
        }
    }

    /**
     * Makes {@code node} stream from {@code primary}: a physical slot of the name it already uses
     * is created there, then its {@code primary_conninfo} is rewritten (with
     * {@code application_name} = its node name, which the replication modes rely on).
     */
    String repoint(NodeStatus node, NodeConfig primary) throws SQLException {
        try (Connection c = connect(node.config())) {
            String slot = NodeSql.queryString(c, "SELECT current_setting('primary_slot_name')");
            if (slot != null && !slot.isEmpty()) {
                try (Connection p = connect(primary)) {
                    NodeSql.queryString(p, "SELECT pg_create_physical_replication_slot(?, true)", slot);
                } catch (SQLException e) {
                    if (!NodeSql.DUPLICATE_OBJECT.equals(e.getSQLState())) {
                        throw e;
                    }
                }
            }
            NodeSql.setSystem(c, "primary_conninfo", sql.conninfo(primary, node.name()));
            return slot == null || slot.isEmpty() ? "no slot" : "slot " + slot;
        }
    }

    /** Re-points a standby whose primary_conninfo lacks {@code application_name=<node name>}. */
    String ensureApplicationName(NodeStatus standby, NodeConfig primary) throws SQLException {
        try (Connection c = connect(standby.config())) {
            String conninfo = NodeSql.queryString(c, "SELECT current_setting('primary_conninfo')");
            if (conninfo != null && (conninfo.contains("application_name=" + standby.name() + " ")
                    || conninfo.endsWith("application_name=" + standby.name())
                    || conninfo.contains("application_name=" + NodeSql.conninfoValue(standby.name())))) {
                return "already " + standby.name();
            }
        }
        return "re-pointed (" + repoint(standby, primary) + ")";
    }

    /** The standbys streaming from {@code primary}, with their sync state. */
    String streaming(NodeConfig primary) throws SQLException {
        try (Connection c = connect(primary)) {
            return NodeSql.queryString(c, "SELECT coalesce(string_agg(application_name || ' ' || sync_state, ', '"
                    + " ORDER BY application_name), 'none') FROM pg_stat_replication WHERE state = 'streaming'");
        }
    }

    /** Waits until {@code node} replayed up to {@code target}, or fails at {@code deadline} (nanoTime). */
    String awaitReplay(NodeConfig node, long target, long deadline) throws Exception {
        try (Connection c = connect(node)) {
            while (true) {
                long replayed = Lsn.parse(NodeSql.queryString(c, "SELECT pg_last_wal_replay_lsn()::text"));
                if (Lsn.compare(replayed, target) >= 0) {
                    return "replayed " + Lsn.format(replayed);
                }
                if (System.nanoTime() > deadline) {
                    throw new Steps.Failed(node.name() + " replayed only " + Lsn.format(replayed) + " of "
                            + Lsn.format(target) + " within failover.switchover-timeout");
                }
                Thread.sleep(5);
            }
        }
    }

    /** Sets or resets {@code default_transaction_read_only} on a node, reloading its configuration. */
    String readOnly(NodeConfig node, boolean on) throws SQLException {
        try (Connection c = sql.connect(node, Duration.ofSeconds(3))) {
            if (on) {
                NodeSql.setSystem(c, "default_transaction_read_only", "on");
            } else {
                NodeSql.resetSystem(c, "default_transaction_read_only");
            }
            return "default_transaction_read_only = " + (on ? "on" : "default");
        }
    }
}
