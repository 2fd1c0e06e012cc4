package io.pgrelay.core.cluster;

import io.pgrelay.core.config.ProxyConfig.MonitorConfig;
import io.pgrelay.core.config.ProxyConfig.NodeConfig;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

/**
 * The monitor's one connection to a node, opened on demand and dropped after any error. Not a
 * pool on purpose: a pool waits its whole connection timeout before reporting a refused
 * connection, which made every failed probe of a dead node cost seconds and delayed failover;
 * a plain connect fails at once when nothing listens, and still gives up after
 * {@code monitor.connect-timeout} when a host does not answer. Callers serialize on the instance.
 */
final class ProbeConnection implements AutoCloseable {
    private final String url;
    private final Properties props = new Properties();
    private Connection connection;
    private boolean closed;

    ProbeConnection(NodeConfig node, MonitorConfig config) {
        this.url = "jdbc:postgresql://" + node.host() + ":" + node.port() + "/" + config.database();
        int connectSeconds = (int) Math.max(1, (config.connectTimeout().toMillis() + 999) / 1000);
        props.setProperty("user", config.user());
        props.setProperty("password", config.password());
        props.setProperty("connectTimeout", String.valueOf(connectSeconds));
        props.setProperty("loginTimeout", String.valueOf(connectSeconds));
        props.setProperty("socketTimeout", String.valueOf(Math.max(1, (config.queryTimeout().toMillis() + 999) / 1000)));
        props.setProperty("ApplicationName", "pgrelay-monitor");
        props.setProperty("tcpKeepAlive", "true");
        props.setProperty("preferQueryMode", "simple");
    }

    synchronized Connection get() throws SQLException {
        if (closed) {
            throw new SQLException("the monitor stopped watching this node");
        }
        if (connection == null) {
            connection = DriverManager.getConnection(url, props);
        }
        return connection;
    }

    /** Drops the connection after an error: the next probe connects afresh. */
    synchronized void discard() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException ignored) {
                // broken already
            }
            connection = null;
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        discard();
    }
}
