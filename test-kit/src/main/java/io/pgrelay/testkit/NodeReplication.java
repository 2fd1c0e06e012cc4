package io.pgrelay.testkit;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.UUID;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static io.pgrelay.testkit.LocalNode.ADMIN_DB;
import static io.pgrelay.testkit.LocalNode.MARKER_TABLE;
import static io.pgrelay.testkit.LocalNode.queryString;
import static io.pgrelay.testkit.LocalNode.sleep;
import static io.pgrelay.testkit.LocalNode.sqlLiteral;

/**
 * A node's part in streaming replication: whom it streams from, its slots, WAL replay and LSNs.
 * Reached through {@link LocalNode}, which keeps the public methods tests call.
 */
final class NodeReplication {
    private static final Logger log = LoggerFactory.getLogger(NodeReplication.class);

    private final LocalNode node;

    NodeReplication(LocalNode node) {
        this.node = node;
    }

    /**
     * {@code pg_wal_replay_pause()}: WAL keeps arriving but is not applied. Waits (up to 5 s) until
     * the startup process reports "paused"; replay is stopped before the next record either way.
     */
    void pauseReplay() {
        node.withAdmin("pg_wal_replay_pause()", c -> {
            queryString(c, "SELECT pg_wal_replay_pause()");
            if (node.cluster().serverVersionNum() >= 140000) {
                long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
                while (!"paused".equals(queryString(c, "SELECT pg_get_wal_replay_pause_state()"))
                        && System.nanoTime() < deadline) {
                    sleep(10);
                }
            }
            return null;
        });
        log.info("{}: WAL replay paused", node.name());
    }

    /** {@code pg_wal_replay_resume()}. */
    void resumeReplay() {
        node.withAdmin("pg_wal_replay_resume()", c -> queryString(c, "SELECT pg_wal_replay_resume()"));
        log.info("{}: WAL replay resumed", node.name());
    }

    /**
     * Makes this standby stream from {@code newPrimary} (typically after a promotion): creates
     * this node's slot there, then {@code ALTER SYSTEM SET primary_conninfo / primary_slot_name}
     * plus reload, and waits until it streams. The standby follows the new timeline as long as
     * it has not replayed past the promotion point; otherwise use {@link LocalNode#rebuildAsReplicaOf}.
     */
    void repointTo(LocalNode newPrimary, Duration timeout) {
        synchronized (node) { // a node's lifecycle operations are serialized on the node
            repointLocked(newPrimary, timeout);
        }
    }

    private void repointLocked(LocalNode newPrimary, Duration timeout) {
        if (newPrimary == node) {
            throw new IllegalArgumentException(node.name() + " cannot stream from itself");
        }
        if (!node.isInRecovery()) {
            throw new IllegalStateException(node.name() + " is not a standby; use rebuildAsReplicaOf(" + newPrimary.name()
                    + ")");
        }
        log.info("{}: repointing to {} ({}:{})", node.name(), newPrimary.name(), newPrimary.host(), newPrimary.port());
        newPrimary.replication().ensureSlot(node.name());
        node.withAdmin("ALTER SYSTEM SET primary_conninfo", c -> {
            try (Statement st = c.createStatement()) {
                st.execute("ALTER SYSTEM SET primary_conninfo = " + sqlLiteral(node.files().conninfoFor(newPrimary)));
                st.execute("ALTER SYSTEM SET primary_slot_name = " + sqlLiteral(node.name()));
            }
            return null;
        });
        node.reloadAndWait();
        waitUntilStreamingFrom(newPrimary, timeout);
    }

    /**
     * Waits until {@code primary}'s pg_stat_replication shows this node (application_name) as
     * 'streaming' and a marker row inserted on the primary afterwards is visible here.
     */
    void waitUntilStreamingFrom(LocalNode primary, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        String lastState = "(not connected)";
        SQLException lastError = null;
        while (true) {
            try (Connection c = primary.adminConnection(ADMIN_DB)) {
                String state = queryString(c,
                        "SELECT state FROM pg_stat_replication WHERE application_name = ? ORDER BY backend_start DESC",
                        node.name());
                if ("streaming".equals(state)) {
                    break;
                }
                lastState = state == null ? "(not connected)" : state;
            } catch (SQLException e) {
                lastError = e;
            }
            if (!node.isRunning()) {
                throw new LocalClusterException(node.name() + ": server exited while waiting to stream from "
                        + primary.name() + node.logTailForMessage());
            }
            if (System.nanoTime() > deadline) {
                throw new LocalClusterException(node.name() + ": not streaming from " + primary.name() + " within "
                        + timeout + "; replication state on " + primary.name() + ": " + lastState
                        + (lastError == null ? "" : "; last error: " + lastError.getMessage())
                        + node.logTailForMessage());
            }
            sleep(20);
        }
        String token = UUID.randomUUID().toString();
        primary.withAdmin("insert marker", c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO " + MARKER_TABLE + " (token, written_on, for_node) VALUES (?, ?, ?)")) {
                ps.setString(1, token);
                ps.setString(2, primary.name());
                ps.setString(3, node.name());
                return ps.executeUpdate();
            }
        });
        while (true) {
            try (Connection c = node.adminConnection(ADMIN_DB)) {
                if (queryString(c, "SELECT token FROM " + MARKER_TABLE + " WHERE token = ?", token) != null) {
                    break;
                }
            } catch (SQLException e) {
                lastError = e;
            }
            if (System.nanoTime() > deadline) {
                throw new LocalClusterException(node.name() + ": marker row written on " + primary.name()
                        + " not visible within " + timeout
                        + (lastError == null ? "" : "; last error: " + lastError.getMessage()) + node.logTailForMessage());
            }
            sleep(10);
        }
        log.info("{}: streaming from {} on {}:{}", node.name(), primary.name(), node.host(), node.port());
    }

    /** Whether {@code primary}'s pg_stat_replication shows this node streaming. */
    boolean isStreamingFrom(LocalNode primary) {
        try (Connection c = primary.adminConnection(ADMIN_DB)) {
            return "streaming".equals(queryString(c,
                    "SELECT state FROM pg_stat_replication WHERE application_name = ? AND state = 'streaming'",
                    node.name()));
        } catch (SQLException e) {
            return false;
        }
    }

    /** The port in this standby's primary_conninfo, or -1 when unknown. */
    int upstreamPort() {
        try (Connection c = node.adminConnection(ADMIN_DB)) {
            String conninfo = queryString(c, "SELECT setting FROM pg_settings WHERE name = 'primary_conninfo'");
            java.util.regex.Matcher m = PORT_IN_CONNINFO.matcher(conninfo == null ? "" : conninfo);
            return m.find() ? Integer.parseInt(m.group(1)) : -1;
        } catch (SQLException e) {
            return -1;
        }
    }

    private static final Pattern PORT_IN_CONNINFO = Pattern.compile("(?:^|\\s)port=(\\d+)");

    /** Creates a physical slot on this node unless it exists. */
    void ensureSlot(String slot) {
        node.withAdmin("create slot " + slot, c -> queryString(c,
                "SELECT pg_create_physical_replication_slot(?, true) WHERE NOT EXISTS "
                        + "(SELECT 1 FROM pg_replication_slots WHERE slot_name = ?)", slot, slot));
    }

    /** Drops a slot on this node if it exists, terminating a walsender still using it. */
    void dropSlot(String slot) {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        node.withAdmin("drop slot " + slot, c -> {
            while (true) {
                try (PreparedStatement ps = c.prepareStatement(
                        "SELECT active, active_pid FROM pg_replication_slots WHERE slot_name = ?")) {
                    ps.setString(1, slot);
                    try (ResultSet rs = ps.executeQuery()) {
                        if (!rs.next()) {
                            return null;
                        }
                        if (rs.getBoolean(1)) {
                            int activePid = rs.getInt(2);
                            queryString(c, "SELECT pg_terminate_backend(?)", activePid);
                        } else {
                            try {
                                queryString(c, "SELECT pg_drop_replication_slot(?)", slot);
                                log.debug("{}: dropped slot {}", node.name(), slot);
                                return null;
                            } catch (SQLException e) {
                                // became active again, or is being dropped concurrently: retry
                                if (System.nanoTime() > deadline) {
                                    throw e;
                                }
                            }
                        }
                    }
                }
                if (System.nanoTime() > deadline) {
                    throw new SQLException("slot " + slot + " stayed active for 15 s");
                }
                sleep(20);
            }
        });
    }

    // ------------------------------------------------------------------ LSNs

    /** {@code pg_last_wal_replay_lsn()} of a standby (or of a promoted node: the last replayed LSN). */
    String replayLsn() {
        String lsn = node.withAdmin("pg_last_wal_replay_lsn()", c -> queryString(c, "SELECT pg_last_wal_replay_lsn()::text"));
        if (lsn == null) {
            throw new IllegalStateException(node.name() + " has not replayed any WAL (it is not a standby)");
        }
        return lsn;
    }

    /** {@code pg_last_wal_receive_lsn()} of a standby: WAL received (not necessarily replayed). */
    String receiveLsn() {
        String lsn = node.withAdmin("pg_last_wal_receive_lsn()",
                c -> queryString(c, "SELECT pg_last_wal_receive_lsn()::text"));
        if (lsn == null) {
            throw new IllegalStateException(node.name() + " has not received any WAL by streaming");
        }
        return lsn;
    }

    /** {@code pg_current_wal_lsn()} of a primary; fails on a standby. */
    String currentWalLsn() {
        return node.withAdmin("pg_current_wal_lsn()", c -> {
            if ("t".equals(queryString(c, "SELECT pg_is_in_recovery()"))) {
                throw new IllegalStateException(node.name() + " is a standby; currentWalLsn() needs a primary");
            }
            return queryString(c, "SELECT pg_current_wal_lsn()::text");
        });
    }

    /**
     * Waits until this node has replayed (standby) or written (primary) WAL up to {@code lsn}.
     *
     * @throws LocalClusterException on timeout, naming the replay position and pause state
     */
    void waitForReplay(String lsn, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        String sql = "SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() >= ?::pg_lsn "
                + "ELSE pg_current_wal_lsn() >= ?::pg_lsn END";
        while (true) {
            boolean done = node.withAdmin("wait for replay", c -> "t".equals(queryString(c, sql, lsn, lsn)));
            if (done) {
                return;
            }
            if (System.nanoTime() > deadline) {
                String state = node.withAdmin("replay state", c -> queryString(c,
                        "SELECT 'replayed ' || coalesce(pg_last_wal_replay_lsn()::text, '?') || ', received '"
                                + " || coalesce(pg_last_wal_receive_lsn()::text, '?') || ', paused '"
                                + " || pg_is_wal_replay_paused()"));
                throw new LocalClusterException(node.name() + ": did not replay " + lsn + " within " + timeout + " ("
                        + state + ")");
            }
            sleep(10);
        }
    }
}
