package io.pgrelay.server.ops;

import io.pgrelay.core.ops.ProxyView;
import io.pgrelay.server.testing.TestProxy;
import io.pgrelay.testkit.LocalNode;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Stopping pgrelay with clients connected: new connections are refused at once, an idle client
 * gets 57P01 right away, a client in a transaction may still commit within
 * {@code shutdown-timeout} and gets 57P01 after it, a client still busy when the timeout passes
 * gets 57P01 then (its statement cancelled, its transaction rolled back), and no backend is left
 * on the server.
 */
class GracefulShutdownIT {
    private static final long TIMEOUT_MILLIS = 6000;

    @Test
    void sessionsFinishTheirTransactionThenGet57P01() throws Exception {
        TestProxy proxy = TestProxy.start("shutdown-timeout: " + TIMEOUT_MILLIS + "ms\n");
        LocalNode primary = proxy.cluster().primary();
        String table = "shutdown_it_" + System.nanoTime();
        try (Connection admin = primary.connect("app", "postgres", "postgres"); Statement s = admin.createStatement()) {
            s.execute("CREATE TABLE " + table + " (who text)");
            s.execute("GRANT ALL ON " + table + " TO app");
        }
        Connection idle = connect(proxy, "idle");
        Connection inTransaction = connect(proxy, "in-tx");
        Connection busy = connect(proxy, "busy");
        execute(idle, "SELECT 1");
        inTransaction.setAutoCommit(false);
        execute(inTransaction, "INSERT INTO " + table + " VALUES ('in-tx')");
        busy.setAutoCommit(false);
        execute(busy, "INSERT INTO " + table + " VALUES ('busy')");
        CompletableFuture<SQLException> busyOutcome = CompletableFuture.supplyAsync(() -> {
            try {
                execute(busy, "SELECT pg_sleep(120)");
                return null;
            } catch (SQLException e) {
                return e;
            }
        });
        ProxyView view = proxy.relay().proxy().view();
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(states(view))
                .containsExactly("idle", "idle in transaction", "active"));

        long shutdownStart = System.nanoTime();
        CompletableFuture<Void> stopped = CompletableFuture.runAsync(proxy::close);

        await().atMost(Duration.ofSeconds(3)).untilAsserted(() -> assertThat(states(view))
                .as("the idle client is gone at once").containsExactly("idle in transaction", "active"));
        assertThatThrownBy(() -> connect(proxy, "late")).as("no new connections").isInstanceOf(SQLException.class)
                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("08001"));
        assertSqlState(() -> execute(idle, "SELECT 1"), "57P01");

        execute(inTransaction, "INSERT INTO " + table + " VALUES ('in-tx, after the shutdown began')");
        inTransaction.commit();
        assertSqlState(() -> execute(inTransaction, "SELECT 1"), "57P01");

        SQLException busyError = busyOutcome.get(TIMEOUT_MILLIS + 20_000, TimeUnit.MILLISECONDS);
        long busyEndedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - shutdownStart);
        assertThat(busyError != null).as("the busy client's statement fails").isTrue();
        assertThat(busyError.getSQLState()).as(busyError.toString()).isEqualTo("57P01");
        assertThat(busyEndedMillis).as("the busy client was given shutdown-timeout")
                .isGreaterThanOrEqualTo(TIMEOUT_MILLIS - 500);
        stopped.get(30, TimeUnit.SECONDS);

        try (Connection admin = primary.connect("app", "postgres", "postgres")) {
            assertThat(rows(admin, "SELECT who FROM " + table + " ORDER BY who"))
                    .containsExactly("in-tx", "in-tx, after the shutdown began");
            await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertThat(rows(admin,
                    "SELECT application_name || ' ' || state FROM pg_stat_activity"
                            + " WHERE application_name IN ('idle', 'in-tx', 'busy')")).isEmpty());
            execute(admin, "DROP TABLE " + table);
        }
        for (Connection c : List.of(idle, inTransaction, busy)) {
            c.close();
        }
    }

    private static Connection connect(TestProxy proxy, String name) throws SQLException {
        Properties props = new Properties();
        props.setProperty("ApplicationName", name);
        return proxy.connect("app", "app", "app", props);
    }

    /** The clients' states as the proxy lists them (pg_stat_activity wording), oldest first. */
    private static List<String> states(ProxyView view) {
        return view.clients().stream().map(ProxyView.ClientInfo::state).toList();
    }

    private static void execute(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private static List<String> rows(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            List<String> rows = new java.util.ArrayList<>();
            while (rs.next()) {
                rows.add(rs.getString(1));
            }
            return rows;
        }
    }

    private interface SqlCall {
        void run() throws SQLException;
    }

    private static void assertSqlState(SqlCall call, String sqlState) {
        assertThatThrownBy(call::run).isInstanceOf(SQLException.class)
                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).as(e.toString()).isEqualTo(sqlState));
    }
}
