package io.pgrelay.core.cluster;

import io.pgrelay.core.config.ProxyConfig.MonitorConfig;

import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * Reads the primary's WAL insert position over a connection of its own (the monitor's
 * credentials, a {@link ProbeConnection}), reconnecting when the topology names another
 * primary. Runs on the {@link PrimaryPositions} thread only.
 *
 * <p>The insert position covers every acknowledged commit, {@code synchronous_commit = off}
 * included. It is a start-of-record pointer: when the last record ends exactly on a WAL page,
 * it points past that page's header, where a replica's replay position (an end-of-record
 * pointer) never stops. {@link #endOfWal} moves it back onto the boundary.
 */
public final class PrimaryPositionQuery implements PrimaryPositions.Query, AutoCloseable {
    static final String SQL = """
            SELECT pg_catalog.pg_is_in_recovery(), p.l::text, (pg_catalog.pg_walfile_name_offset(p.l)).file_offset,
                   pg_catalog.current_setting('wal_block_size')::int,
                   ('x' || substr(pg_catalog.pg_walfile_name(p.l), 1, 8))::bit(32)::int
            FROM (SELECT CASE WHEN pg_catalog.pg_is_in_recovery() THEN NULL
                              ELSE pg_catalog.pg_current_wal_insert_lsn() END AS l) p
            """;
    /** MAXALIGNed XLogPageHeaderData and XLogLongPageHeaderData (the first page of a segment). */
    static final int SHORT_PAGE_HEADER = 24;
    static final int LONG_PAGE_HEADER = 40;

    private final ClusterState cluster;
    private final MonitorConfig config;
    private ProbeConnection connection;
    private int connectedNode = -1;

    public PrimaryPositionQuery(ClusterState cluster, MonitorConfig config) {
        this.cluster = cluster;
        this.config = config;
    }

    @Override
    public void fetch(PrimaryPosition.Listener into) throws SQLException {
        NodeStatus primary = cluster.current().primary();
        if (primary == null) {
            throw new SQLException("no primary is known");
        }
        ProbeConnection pool = connectionTo(primary);
        try (ResultSet rs = pool.statement().executeQuery()) {
            rs.next();
            if (rs.getBoolean(1)) {
                throw new SQLException("node " + primary.name() + " is in recovery");
            }
            into.position(endOfWal(Lsn.parse(rs.getString(2)), rs.getLong(3), rs.getInt(4)), rs.getInt(5));
        } catch (SQLException | RuntimeException e) {
            pool.discard();
            throw e;
        }
    }

    private ProbeConnection connectionTo(NodeStatus primary) {
        if (connection == null || connectedNode != primary.index()) {
            close();
            connection = new ProbeConnection(primary.config(), config, SQL);
            connectedNode = primary.index();
        }
        return connection;
    }

    /** The insert position {@code lsn}, moved back from past a page header onto the page boundary. */
    static long endOfWal(long lsn, long segmentOffset, int blockSize) {
        if (segmentOffset == LONG_PAGE_HEADER) {
            return lsn - LONG_PAGE_HEADER;
        }
        if (segmentOffset % blockSize == SHORT_PAGE_HEADER) {
            return lsn - SHORT_PAGE_HEADER;
        }
        return lsn;
    }

    @Override
    public void close() {
        if (connection != null) {
            connection.close();
            connection = null;
            connectedNode = -1;
        }
    }
}
