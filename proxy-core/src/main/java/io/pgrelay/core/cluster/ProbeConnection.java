package io.pgrelay.core.cluster;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.pgrelay.core.config.ProxyConfig.MonitorConfig;
import io.pgrelay.core.config.ProxyConfig.NodeConfig;
import io.pgrelay.core.net.InternalConnections;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/**
 * The monitor's connection to a node: a one-connection HikariCP pool whose connection the
 * monitor keeps borrowed between probes (no validation round trip per probe) and evicts after
 * any error. A pool waits up to its connection timeout before it reports that a node refuses
 * connections, so that timeout is bounded by half the probe interval (at least HikariCP's
 * minimum of 250 ms): a dead node costs a probe at most that long, and failover is not delayed
 * by seconds. {@code monitor.connect-timeout} still bounds each physical connection attempt,
 * which the pool keeps making in the background. Callers serialize on the instance.
 *
 * <p>The probe's statement stays open across probes: a probe runs once per interval, so its
 * code stays interpreted for many minutes, and parsing the query text again each time was a
 * large part of its cost.
 */
final class ProbeConnection implements AutoCloseable {
    private static final long HIKARI_MIN_TIMEOUT_MILLIS = 250;

    private final HikariDataSource pool;
    /** Volatile: {@link #abort()} reads it without the lock the stuck probe holds. */
    private volatile Connection connection;
    /** The one query this connection runs. */
    private final String sql;
    private PreparedStatement statement;
    private boolean closed;

    ProbeConnection(NodeConfig node, MonitorConfig config, String sql) {
        this.sql = sql;
        HikariConfig hikari = new HikariConfig();
        hikari.setPoolName("monitor-" + node.name());
        hikari.setJdbcUrl("jdbc:postgresql://" + node.host() + ":" + node.port() + "/" + config.database());
        hikari.setUsername(config.user());
        hikari.setPassword(config.password());
        hikari.setMaximumPoolSize(1);
        hikari.setMinimumIdle(1);
        hikari.setInitializationFailTimeout(-1);
        long waitMillis = Math.max(HIKARI_MIN_TIMEOUT_MILLIS,
                Math.min(config.connectTimeout().toMillis(), config.interval().toMillis() / 2));
        hikari.setConnectionTimeout(waitMillis);
        hikari.setValidationTimeout(HIKARI_MIN_TIMEOUT_MILLIS);
        hikari.setKeepaliveTime(0);
        hikari.setAutoCommit(true);
        int connectSeconds = (int) Math.max(1, (config.connectTimeout().toMillis() + 999) / 1000);
        hikari.addDataSourceProperty("connectTimeout", connectSeconds);
        hikari.addDataSourceProperty("loginTimeout", connectSeconds);
        hikari.addDataSourceProperty("socketTimeout",
                (int) Math.max(1, (config.queryTimeout().toMillis() + 999) / 1000));
        hikari.addDataSourceProperty("ApplicationName", "pgrelay-monitor");
        hikari.addDataSourceProperty("tcpKeepAlive", true);
        hikari.addDataSourceProperty("preferQueryMode", "simple");
        hikari.addDataSourceProperty("options", InternalConnections.OPTIONS);
        this.pool = new HikariDataSource(hikari);
    }

    private Connection connection() throws SQLException {
        if (closed) {
            throw new SQLException("the monitor stopped watching this node");
        }
        if (connection == null) {
            connection = pool.getConnection();
        }
        return connection;
    }

    /** The connection's statement for its query, prepared once per connection. */
    synchronized PreparedStatement statement() throws SQLException {
        if (statement == null) {
            statement = connection().prepareStatement(sql);
        }
        return statement;
    }

    private void closeStatement() {
        if (statement != null) {
            try {
                statement.close();
            } catch (SQLException e) {
                // The connection is gone already; the statement goes with it.
            }
            statement = null;
        }
    }

    /**
     * Closes the connection's socket now, from any thread: a probe stuck on a frozen node (whose
     * TCP stays open, so no socket timeout of the driver's own is reliable) returns with an error.
     */
    void abort() {
        Connection current = connection;
        if (current != null) {
            try {
                current.abort(Runnable::run);
            } catch (SQLException | RuntimeException e) {
                // Closed already: the probe fails either way.
            }
        }
    }

    /** Drops the connection after an error: the pool connects afresh for the next probe. */
    synchronized void discard() {
        closeStatement();
        if (connection != null) {
            pool.evictConnection(connection);
            connection = null;
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        discard();
        pool.close();
    }
}
