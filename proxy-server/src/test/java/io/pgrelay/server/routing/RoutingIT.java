package io.pgrelay.server.routing;

import io.pgrelay.server.testing.TestProxy;
import io.pgrelay.testkit.LocalCluster;
import io.pgrelay.testkit.LocalNode;
import io.pgrelay.testkit.TestCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Read/write splitting through pgrelay, each rule proven by which server answered:
 * {@code current_setting('port')::int} runs on the node that executes the statement.
 */
class RoutingIT {
    private static TestProxy proxy;
    private static int primaryPort;
    private static Set<Integer> replicaPorts;

    @BeforeAll
    static void start() throws SQLException {
        LocalCluster cluster = TestCluster.get();
        primaryPort = cluster.primary().port();
        replicaPorts = cluster.replicas().stream().map(LocalNode::port).collect(Collectors.toSet());
        proxy = TestProxy.start("");
        try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
            s.execute("/* pgrelay:primary */ DROP SCHEMA IF EXISTS s1 CASCADE");
            s.execute("CREATE SCHEMA s1");
            s.execute("CREATE TABLE s1.t (label text)");
            s.execute("INSERT INTO s1.t VALUES ('from s1')");
            s.execute("CREATE TABLE IF NOT EXISTS public.t (label text)");
            s.execute("TRUNCATE public.t");
            s.execute("INSERT INTO public.t VALUES ('from public')");
            s.execute("CREATE TABLE IF NOT EXISTS routed_rows (id serial primary key, note text)");
        }
        cluster.waitForReplication(Duration.ofSeconds(10));
        reloadCatalog();
        waitForCatalog();
    }

    /** Tables created above are unknown to the catalog snapshot until it is reloaded. */
    static void reloadCatalog() {
        try {
            proxy.relay().proxy().catalogs().load("app").get(10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("catalog reload failed", e);
        }
    }

    /** The proxy routes everything to the primary until the database's catalog is loaded. */
    private static void waitForCatalog() throws SQLException {
        long deadline = System.currentTimeMillis() + 10_000;
        while (System.currentTimeMillis() < deadline) {
            try (Connection c = proxy.connect()) {
                if (replicaPorts.contains(port(c, "SELECT current_setting('port')::int"))) {
                    return;
                }
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        throw new AssertionError("reads never reached a replica");
    }

    @AfterAll
    static void stop() {
        proxy.close();
    }

    private static int port(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            assertThat(rs.next()).as(sql).isTrue();
            return rs.getInt(1);
        }
    }

    private static String text(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            assertThat(rs.next()).as(sql).isTrue();
            return rs.getString(1);
        }
    }

    private static Connection simple() throws SQLException {
        Properties props = new Properties();
        props.setProperty("preferQueryMode", "simple");
        return proxy.connect("app", "app", "app", props);
    }

    @Test
    void readsGoToReplicasWritesToThePrimary() throws SQLException {
        for (Connection c : new Connection[] {proxy.connect(), simple()}) {
            try (c) {
                assertThat(port(c, "SELECT current_setting('port')::int")).isIn(replicaPorts);
                assertThat(port(c, "INSERT INTO routed_rows (note) VALUES ('w') RETURNING current_setting('port')::int"))
                        .isEqualTo(primaryPort);
                assertThat(port(c, "SELECT current_setting('port')::int FROM routed_rows LIMIT 1 FOR UPDATE"))
                        .isEqualTo(primaryPort);
                assertThat(port(c, "WITH w AS (INSERT INTO routed_rows (note) VALUES ('cte') RETURNING id) "
                        + "SELECT current_setting('port')::int FROM w")).isEqualTo(primaryPort);
                assertThat(port(c, "SELECT current_setting('port')::int WHERE nextval('routed_rows_id_seq') > 0"))
                        .isEqualTo(primaryPort);
            }
        }
    }

    @Test
    void bothReplicasServeReads() throws SQLException {
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 20; i++) {
            try (Connection c = proxy.connect()) {
                seen.add(port(c, "SELECT current_setting('port')::int"));
            }
        }
        assertThat(seen).isEqualTo(replicaPorts);
    }

    @Test
    void hintsAndRouteSetting() throws SQLException {
        try (Connection c = simple()) {
            assertThat(port(c, "/* pgrelay:primary */ SELECT current_setting('port')::int")).isEqualTo(primaryPort);
            try (Statement s = c.createStatement()) {
                s.execute("SET pgrelay.route = primary");
            }
            assertThat(text(c, "SHOW pgrelay.route")).isEqualTo("primary");
            assertThat(port(c, "SELECT current_setting('port')::int")).isEqualTo(primaryPort);
            try (Statement s = c.createStatement()) {
                s.execute("RESET pgrelay.route");
            }
            assertThat(port(c, "SELECT current_setting('port')::int")).isIn(replicaPorts);
        }
        try (Connection c = proxy.connect()) {
            try (Statement s = c.createStatement()) {
                s.execute("SET pgrelay.route TO 'primary'");
            }
            assertThat(port(c, "SELECT current_setting('port')::int")).isEqualTo(primaryPort);
        }
        Properties startup = new Properties();
        startup.setProperty("options", "-c pgrelay.route=primary");
        try (Connection c = proxy.connect("app", "app", "app", startup)) {
            assertThat(port(c, "SELECT current_setting('port')::int")).isEqualTo(primaryPort);
        }
    }

    @Test
    void explicitTransactionsStayOnOneNode() throws SQLException {
        try (Connection c = simple(); Statement s = c.createStatement()) {
            s.execute("BEGIN");
            assertThat(port(c, "SELECT current_setting('port')::int")).isEqualTo(primaryPort);
            s.execute("COMMIT");
            s.execute("BEGIN READ ONLY");
            int first = port(c, "SELECT current_setting('port')::int");
            assertThat(first).isIn(replicaPorts);
            assertThat(port(c, "SELECT current_setting('port')::int")).isEqualTo(first);
            s.execute("COMMIT");
            s.execute("START TRANSACTION READ ONLY");
            assertThat(port(c, "SELECT current_setting('port')::int")).isIn(replicaPorts);
            s.execute("ROLLBACK");
            s.execute("BEGIN");
            s.execute("SET TRANSACTION READ ONLY");
            assertThat(port(c, "SELECT current_setting('port')::int")).isIn(replicaPorts);
            s.execute("COMMIT");
            s.execute("SET default_transaction_read_only = on");
            s.execute("BEGIN");
            assertThat(port(c, "SELECT current_setting('port')::int")).isIn(replicaPorts);
            s.execute("COMMIT");
            s.execute("SET default_transaction_read_only = off");
            s.execute("BEGIN");
            s.execute("COMMIT");
        }
        try (Connection c = proxy.connect()) {
            c.setAutoCommit(false);
            assertThat(port(c, "SELECT current_setting('port')::int")).isEqualTo(primaryPort);
            c.commit();
            c.setReadOnly(true);
            assertThat(port(c, "SELECT current_setting('port')::int")).isIn(replicaPorts);
            c.commit();
        }
    }

    @Test
    void multiStatementStringTakesTheStrictestRoute() throws SQLException {
        try (Connection c = simple(); Statement s = c.createStatement()) {
            s.execute("SELECT 1; INSERT INTO routed_rows (note) VALUES ('multi'); SELECT current_setting('port')::int");
            assertThat(s.getMoreResults()).as("update count").isFalse();
            assertThat(s.getUpdateCount()).isEqualTo(1);
            assertThat(s.getMoreResults()).isTrue();
            try (ResultSet rs = s.getResultSet()) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(primaryPort);
            }
        }
    }

    @Test
    void searchPathIsReplayedOnTheReplica() throws SQLException {
        for (Connection c : new Connection[] {proxy.connect(), simple()}) {
            try (c; Statement s = c.createStatement()) {
                s.execute("SET search_path TO s1");
                try (ResultSet rs = s.executeQuery("SELECT label, current_setting('port')::int FROM t")) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getString(1)).isEqualTo("from s1");
                    assertThat(rs.getInt(2)).isIn(replicaPorts);
                }
                s.execute("RESET search_path");
                try (ResultSet rs = s.executeQuery("SELECT label, current_setting('port')::int FROM t")) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getString(1)).isEqualTo("from public");
                }
            }
        }
    }

    @Test
    void timeZoneAndOtherSettingsFollowTheSession() throws SQLException {
        try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
            s.execute("SET TimeZone = 'Asia/Kolkata'");
            s.execute("SET statement_timeout = '4321ms'");
            s.execute("SET application_name = 'routed-app'");
            try (ResultSet rs = s.executeQuery("SELECT current_setting('TimeZone'), current_setting('statement_timeout'),"
                    + " current_setting('application_name'), current_setting('port')::int")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("Asia/Kolkata");
                assertThat(rs.getString(2)).isEqualTo("4321ms");
                assertThat(rs.getString(3)).isEqualTo("routed-app");
                assertThat(rs.getInt(4)).isIn(replicaPorts);
            }
            s.execute("BEGIN");
            s.execute("SET TimeZone = 'UTC'");
            s.execute("ROLLBACK");
            try (ResultSet rs = s.executeQuery("SELECT current_setting('TimeZone'), current_setting('port')::int")) {
                rs.next();
                assertThat(rs.getString(1)).as("a SET rolled back does not stick").isEqualTo("Asia/Kolkata");
            }
        }
    }

    @Test
    void preparedStatementsRunWhereverTheyAreRouted() throws SQLException {
        try (Connection c = proxy.connect();
             PreparedStatement read = c.prepareStatement("SELECT current_setting('port')::int, ?::int");
             PreparedStatement write = c.prepareStatement(
                     "INSERT INTO routed_rows (note) VALUES (?) RETURNING current_setting('port')::int")) {
            for (int i = 0; i < 12; i++) {
                read.setInt(1, i);
                try (ResultSet rs = read.executeQuery()) {
                    rs.next();
                    assertThat(rs.getInt(1)).isIn(replicaPorts);
                    assertThat(rs.getInt(2)).isEqualTo(i);
                }
                write.setString(1, "ps" + i);
                try (ResultSet rs = write.executeQuery()) {
                    rs.next();
                    assertThat(rs.getInt(1)).isEqualTo(primaryPort);
                }
            }
        }
        try (Connection c = simple(); Statement s = c.createStatement()) {
            s.execute("PREPARE where_am_i AS SELECT current_setting('port')::int");
            assertThat(port(c, "EXECUTE where_am_i")).isIn(replicaPorts);
            s.execute("PREPARE add_row(text) AS INSERT INTO routed_rows (note) VALUES ($1) RETURNING current_setting('port')::int");
            assertThat(port(c, "EXECUTE add_row('sql')")).isEqualTo(primaryPort);
            s.execute("DEALLOCATE where_am_i");
            s.execute("PREPARE where_am_i AS SELECT current_setting('port')::int + 0");
            assertThat(port(c, "EXECUTE where_am_i")).isIn(replicaPorts);
        }
    }

    @Test
    void temporaryTablesPinTheSessionToThePrimary() throws SQLException {
        try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
            assertThat(port(c, "SELECT current_setting('port')::int")).isIn(replicaPorts);
            s.execute("CREATE TEMP TABLE scratch (x int)");
            s.execute("INSERT INTO scratch VALUES (42)");
            try (ResultSet rs = s.executeQuery("SELECT x, current_setting('port')::int FROM scratch")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(42);
                assertThat(rs.getInt(2)).isEqualTo(primaryPort);
            }
            assertThat(port(c, "SELECT current_setting('port')::int")).as("pinned").isEqualTo(primaryPort);
            s.execute("DISCARD ALL");
            assertThat(port(c, "SELECT current_setting('port')::int")).as("unpinned").isIn(replicaPorts);
        }
    }

    @Test
    void listenAdvisoryLocksAndHoldCursorsPin() throws SQLException {
        try (Connection c = simple(); Statement s = c.createStatement()) {
            s.execute("LISTEN routing_channel");
            assertThat(port(c, "SELECT current_setting('port')::int")).isEqualTo(primaryPort);
            s.execute("UNLISTEN *");
            assertThat(port(c, "SELECT current_setting('port')::int")).isIn(replicaPorts);
            s.execute("SELECT pg_advisory_lock(777)");
            assertThat(port(c, "SELECT current_setting('port')::int")).isEqualTo(primaryPort);
            s.execute("SELECT pg_advisory_unlock_all()");
            assertThat(port(c, "SELECT current_setting('port')::int")).isIn(replicaPorts);
            s.execute("DECLARE held CURSOR WITH HOLD FOR SELECT current_setting('port')::int");
            assertThat(port(c, "FETCH NEXT FROM held")).isEqualTo(primaryPort);
            assertThat(port(c, "SELECT current_setting('port')::int")).isEqualTo(primaryPort);
            s.execute("CLOSE held");
            assertThat(port(c, "SELECT current_setting('port')::int")).isIn(replicaPorts);
        }
    }

    @Test
    void cursorsInsideReadOnlyTransactions() throws SQLException {
        try (Connection c = simple(); Statement s = c.createStatement()) {
            s.execute("BEGIN READ ONLY");
            s.execute("DECLARE cur CURSOR FOR SELECT current_setting('port')::int FROM generate_series(1, 3)");
            int first = port(c, "FETCH NEXT FROM cur");
            assertThat(first).isIn(replicaPorts);
            assertThat(port(c, "FETCH NEXT FROM cur")).isEqualTo(first);
            s.execute("CLOSE cur");
            s.execute("COMMIT");
        }
    }
}
