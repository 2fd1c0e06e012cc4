package io.pgrelay.core.ops;

import io.pgrelay.core.config.ProxyConfig.MonitorConfig;
import io.pgrelay.core.config.ProxyConfig.NodeConfig;
import io.pgrelay.core.net.InternalConnections;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;

/**
 * Short-lived JDBC connections to one node with the monitor's credentials, for operations
 * (promotion, re-pointing, settings). A fresh connection per call: operations are rare, and a
 * pooled connection could be the broken one left over from before a failure.
 */
final class NodeSql {
    /** SQLSTATE duplicate_object: the replication slot exists already. */
    static final String DUPLICATE_OBJECT = "42710";

    private final MonitorConfig monitor;

    NodeSql(MonitorConfig monitor) {
        this.monitor = monitor;
    }

    String user() {
        return monitor.user();
    }

    String password() {
        return monitor.password();
    }

    Connection connect(NodeConfig node, Duration socketTimeout) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", monitor.user());
        props.setProperty("password", monitor.password());
        props.setProperty("connectTimeout", String.valueOf(Math.max(1, monitor.connectTimeout().toSeconds())));
        props.setProperty("loginTimeout", String.valueOf(Math.max(1, monitor.connectTimeout().toSeconds())));
        props.setProperty("socketTimeout", String.valueOf(Math.max(1, socketTimeout.toSeconds())));
        props.setProperty("ApplicationName", "pgrelay-ops");
        props.setProperty("preferQueryMode", "simple");
        props.setProperty("options", InternalConnections.OPTIONS);
        return DriverManager.getConnection("jdbc:postgresql://" + node.host() + ":" + node.port() + "/"
                + monitor.database(), props);
    }

    /** One value of a one-row query, or null. */
    static String queryString(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    /** {@code ALTER SYSTEM SET key = 'value'} (which takes no bind parameters), then a reload. */
    static void setSystem(Connection c, String key, String value) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("ALTER SYSTEM SET " + key + " = " + literal(value));
            st.execute("SELECT pg_reload_conf()");
        }
    }

    static void resetSystem(Connection c, String key) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("ALTER SYSTEM RESET " + key);
            st.execute("SELECT pg_reload_conf()");
        }
    }

    /** An SQL string literal (standard_conforming_strings is on since PostgreSQL 9.1). */
    static String literal(String value) {
        return "'" + value.replace("'", "''") + "'";
    }

    /** A libpq connection-string value: single-quoted, with backslash and quote escaped. */
    static String conninfoValue(String value) {
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    /** The conninfo a standby named {@code application} uses to stream from {@code primary}. */
    String conninfo(NodeConfig primary, String application) {
        return "host=" + conninfoValue(primary.host()) + " port=" + primary.port() + " user="
                + conninfoValue(monitor.user()) + " password=" + conninfoValue(monitor.password())
                + " application_name=" + conninfoValue(application);
    }
}
