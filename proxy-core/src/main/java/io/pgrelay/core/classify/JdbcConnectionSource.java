package io.pgrelay.core.classify;

import io.pgrelay.core.config.HostPort;
import io.pgrelay.core.net.InternalConnections;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.function.Supplier;

/**
 * Opens catalog connections to the primary with pgjdbc: either to a known primary (given by the
 * caller, e.g. from the cluster monitor's topology) or by discovery over the configured nodes (the
 * first that answers {@code SELECT pg_is_in_recovery()} with false). Blocking; used only on
 * {@link CatalogService}'s executor and by the command line.
 */
public final class JdbcConnectionSource implements CatalogService.ConnectionSource {
    private final Supplier<List<HostPort>> candidates;
    private final String user;
    private final String password;
    private final Duration timeout;

    /**
     * @param candidates nodes to try, the current primary first when known
     * @param user       login (the monitor's credentials)
     * @param password   password, may be empty
     * @param timeout    connect and socket timeout
     */
    public JdbcConnectionSource(Supplier<List<HostPort>> candidates, String user, String password, Duration timeout) {
        this.candidates = candidates;
        this.user = user;
        this.password = password;
        this.timeout = timeout;
    }

    @Override
    public Connection open(String database) throws SQLException {
        SQLException last = null;
        for (HostPort node : candidates.get()) {
            Connection c = null;
            try {
                c = connect(node, database);
                try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
                    rs.next();
                    if (!rs.getBoolean(1)) {
                        Connection primary = c;
                        c = null;
                        return primary;
                    }
                }
            } catch (SQLException e) {
                last = e;
            } finally {
                if (c != null) {
                    c.close();
                }
            }
        }
        throw new SQLException("no primary found among " + candidates.get()
                + (last != null ? " (last error: " + last.getMessage() + ")" : ""), last);
    }

    private Connection connect(HostPort node, String database) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        if (password != null && !password.isEmpty()) {
            p.setProperty("password", password);
        }
        int seconds = (int) Math.max(1, timeout.toSeconds());
        p.setProperty("connectTimeout", Integer.toString(seconds));
        p.setProperty("socketTimeout", Integer.toString(Math.max(10, seconds * 5)));
        p.setProperty("ApplicationName", "pgrelay-catalog");
        p.setProperty("readOnly", "true");
        p.setProperty("options", InternalConnections.OPTIONS);
        return DriverManager.getConnection("jdbc:postgresql://" + node.host() + ":" + node.port() + "/" + database, p);
    }
}
