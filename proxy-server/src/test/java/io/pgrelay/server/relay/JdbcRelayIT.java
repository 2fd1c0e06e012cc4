package io.pgrelay.server.relay;

import io.pgrelay.server.testing.TestProxy;
import io.pgrelay.testkit.LocalNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.postgresql.copy.CopyManager;
import org.postgresql.util.PSQLException;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** pgjdbc through pgrelay behaves as against PostgreSQL itself. */
class JdbcRelayIT {
    private static TestProxy proxy;

    @BeforeAll
    static void start() throws SQLException {
        proxy = TestProxy.shared();
        try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS relay_items (id int PRIMARY KEY, name text, price numeric)");
            s.execute("TRUNCATE relay_items");
        }
    }

    @Test
    void transactionsAnswerFromThePrimary() throws SQLException {
        LocalNode primary = proxy.cluster().primary();
        try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            ResultSet rs = s.executeQuery("SELECT current_setting('port')::int, current_user, current_database()");
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).isEqualTo(primary.port());
            assertThat(rs.getString(2)).isEqualTo("app");
            assertThat(rs.getString(3)).isEqualTo("app");
        }
    }

    @Test
    void simpleAndExtendedQueries() throws SQLException {
        Properties simple = new Properties();
        simple.setProperty("preferQueryMode", "simple");
        try (Connection c = proxy.connect("app", "app", "app", simple); Statement s = c.createStatement()) {
            assertThat(s.execute("SELECT 1 AS a, 'x' AS b; SELECT 2")).isTrue();
            try (ResultSet rs = s.getResultSet()) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt("a")).isEqualTo(1);
                assertThat(rs.getString("b")).isEqualTo("x");
            }
            assertThat(s.getMoreResults()).isTrue();
            try (ResultSet rs = s.getResultSet()) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(2);
            }
        }
        try (Connection c = proxy.connect();
             PreparedStatement ps = c.prepareStatement("SELECT ?::int + ?::int, ?::text")) {
            // Past prepareThreshold (5) pgjdbc switches to a named server-side statement.
            for (int i = 0; i < 10; i++) {
                ps.setInt(1, i);
                ps.setInt(2, 100);
                ps.setString(3, "v" + i);
                try (ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getInt(1)).isEqualTo(i + 100);
                    assertThat(rs.getString(2)).isEqualTo("v" + i);
                }
            }
        }
    }

    @Test
    void batchesAndTransactions() throws SQLException {
        try (Connection c = proxy.connect()) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO relay_items VALUES (?, ?, ?)")) {
                for (int i = 1000; i < 1500; i++) {
                    ps.setInt(1, i);
                    ps.setString(2, "item " + i);
                    ps.setBigDecimal(3, java.math.BigDecimal.valueOf(i, 2));
                    ps.addBatch();
                }
                int[] counts = ps.executeBatch();
                assertThat(counts).hasSize(500).containsOnly(1);
            }
            c.rollback();
            try (Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT count(*) FROM relay_items WHERE id >= 1000 AND id < 1500")) {
                rs.next();
                assertThat(rs.getInt(1)).isZero();
            }
            try (Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO relay_items VALUES (1, 'one', 1.5)");
                c.commit();
            }
        }
        // Another session: by default (eventual) its read may reach a replica that has not
        // replayed the commit yet; global consistency is how a client asks to see it.
        Properties global = new Properties();
        global.setProperty("options", "-c pgrelay.consistency=global");
        try (Connection c = proxy.connect("app", "app", "app", global); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT name FROM relay_items WHERE id = 1")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("one");
        }
    }

    @Test
    void errorsPassThroughAndTheSessionGoesOn() throws SQLException {
        try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.executeQuery("SELECT * FROM no_such_table"))
                    .isInstanceOf(PSQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42P01"))
                    .hasMessageContaining("no_such_table");
            try (ResultSet rs = s.executeQuery("SELECT 42")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(42);
            }
        }
    }

    @Test
    void copyInAndOut() throws Exception {
        try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
            s.execute("CREATE TEMP TABLE copy_target (id int, label text)");
            CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
            StringBuilder data = new StringBuilder();
            for (int i = 0; i < 20_000; i++) {
                data.append(i).append('\t').append("label-").append(i).append('\n');
            }
            long copied = copy.copyIn("COPY copy_target FROM STDIN", new StringReader(data.toString()));
            assertThat(copied).isEqualTo(20_000);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            long exported = copy.copyOut("COPY (SELECT * FROM copy_target ORDER BY id) TO STDOUT", out);
            assertThat(exported).isEqualTo(20_000);
            assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo(data.toString());
            // A failing COPY IN leaves the session usable.
            assertThatThrownBy(() -> copy.copyIn("COPY copy_target FROM STDIN", new StringReader("not-a-number\tx\n")))
                    .isInstanceOf(SQLException.class);
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM copy_target")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(20_000);
            }
        }
    }

    @Test
    void cancelStopsALongStatementWithin1Second() throws Exception {
        try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
            CompletableFuture<Throwable> outcome = CompletableFuture.supplyAsync(() -> {
                try {
                    s.execute("SELECT pg_sleep(30)");
                    return null;
                } catch (SQLException e) {
                    return e;
                }
            });
            Thread.sleep(500);
            long start = System.nanoTime();
            s.cancel();
            Throwable error = outcome.get(10, TimeUnit.SECONDS);
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(error).isInstanceOf(SQLException.class);
            assertThat(((SQLException) error).getSQLState()).isEqualTo("57014");
            assertThat(millis).as("cancel latency").isLessThan(1000);
            try (ResultSet rs = s.executeQuery("SELECT 1")) {
                assertThat(rs.next()).isTrue();
            }
        }
    }

    @Test
    void listenNotify() throws Exception {
        try (Connection listener = proxy.connect(); Connection notifier = proxy.connect()) {
            try (Statement s = listener.createStatement()) {
                s.execute("LISTEN relay_events");
            }
            try (Statement s = notifier.createStatement()) {
                s.execute("NOTIFY relay_events, 'hello'");
                s.execute("SELECT pg_notify('relay_events', 'world')");
            }
            PGConnection pg = listener.unwrap(PGConnection.class);
            java.util.List<String> payloads = new java.util.ArrayList<>();
            long deadline = System.currentTimeMillis() + 5000;
            while (payloads.size() < 2 && System.currentTimeMillis() < deadline) {
                PGNotification[] notifications = pg.getNotifications(500);
                if (notifications != null) {
                    for (PGNotification n : notifications) {
                        assertThat(n.getName()).isEqualTo("relay_events");
                        payloads.add(n.getParameter());
                    }
                }
            }
            assertThat(payloads).containsExactly("hello", "world");
        }
    }

    @Test
    void noticesAndParameterStatusArriveAsTheyCome() throws SQLException {
        try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
            s.execute("DO $$ BEGIN RAISE NOTICE 'pgrelay notice %', 7; END $$");
            assertThat((Object) s.getWarnings()).isNotNull();
            assertThat(s.getWarnings().getMessage()).contains("pgrelay notice 7");
            s.execute("SET application_name = 'relay-test'");
            assertThat(c.unwrap(org.postgresql.core.BaseConnection.class).getParameterStatus("application_name"))
                    .isEqualTo("relay-test");
            s.execute("SET TimeZone = 'Asia/Tokyo'");
            assertThat(c.unwrap(org.postgresql.core.BaseConnection.class).getParameterStatus("TimeZone"))
                    .isEqualTo("Asia/Tokyo");
        }
    }

    @Test
    void startupParametersAreApplied() throws SQLException {
        Properties props = new Properties();
        props.setProperty("ApplicationName", "startup-app");
        props.setProperty("options", "-c search_path=pg_catalog,public -c statement_timeout=12345");
        try (Connection c = proxy.connect("app", "app", "app", props); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT current_setting('application_name'), "
                     + "current_setting('search_path'), current_setting('statement_timeout')")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("startup-app");
            assertThat(rs.getString(2)).isEqualTo("pg_catalog,public");
            assertThat(rs.getString(3)).isEqualTo("12345ms");
        }
    }

    @Test
    void severalHundredMegabytesStreamThrough() throws SQLException {
        try (Connection c = proxy.connect()) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.setFetchSize(2000);
                long bytes = 0;
                long rows = 0;
                try (ResultSet rs = s.executeQuery(
                        "SELECT g, repeat(md5(g::text), 32) FROM generate_series(1, 300000) g")) {
                    while (rs.next()) {
                        rows++;
                        bytes += rs.getString(2).length();
                    }
                }
                assertThat(rows).isEqualTo(300_000);
                assertThat(bytes).isEqualTo(300_000L * 1024);
            }
            c.commit();
        }
    }

    @Test
    void copyOutOfAHugeResultIsStreamed() throws Exception {
        try (Connection c = proxy.connect()) {
            CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
            long[] bytes = {0};
            OutputStream counter = new OutputStream() {
                @Override
                public void write(int b) {
                    bytes[0]++;
                }

                @Override
                public void write(byte[] b, int off, int len) {
                    bytes[0] += len;
                }
            };
            long rows = copy.copyOut("COPY (SELECT repeat('x', 1023) FROM generate_series(1, 400000)) TO STDOUT",
                    counter);
            assertThat(rows).isEqualTo(400_000);
            assertThat(bytes[0]).isEqualTo(400_000L * 1024);
        }
    }

    @Test
    void md5UserLogsIn() throws SQLException {
        try (Connection c = proxy.connect("app", "app_md5", "app_md5", new Properties());
             Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT current_user")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("app_md5");
        }
    }
}
