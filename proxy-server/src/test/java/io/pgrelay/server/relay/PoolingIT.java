package io.pgrelay.server.relay;

import io.pgrelay.core.ops.ProxyView.PoolStats;
import io.pgrelay.protocol.message.frontend.Query;
import io.pgrelay.server.testing.RawPgClient;
import io.pgrelay.server.testing.TestProxy;
import io.pgrelay.testkit.LocalCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Backend connections are reused, never dirty: session state is reset, an abandoned
 * transaction is rolled back, a backend abandoned mid-query is closed rather than reused.
 */
class PoolingIT {
    private static TestProxy proxy;

    @BeforeAll
    static void start() throws SQLException {
        // One backend per pool makes reuse observable through pg_backend_pid(); everything on
        // the primary so that every statement meets the same pool.
        proxy = TestProxy.start("""
                routing: { reads-to-replicas: false }
                auth:
                  method: trust
                  users:
                    - { name: app, password: app }
                pool: { max-size: 1, acquire-timeout: 20s }
                workers: 1
                """);
        try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS pooling_rows (id int)");
            s.execute("TRUNCATE pooling_rows");
        }
    }

    @AfterAll
    static void stop() {
        proxy.close();
    }

    private static int backendPid(Statement s) throws SQLException {
        try (ResultSet rs = s.executeQuery("SELECT pid FROM pg_stat_activity WHERE pid = pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static String scalar(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private PoolStats appPool() {
        return proxy.relay().proxy().view().pools().stream()
                .filter(p -> p.user().equals("app") && p.database().equals("app"))
                .findFirst().orElseThrow();
    }

    @Test
    void sessionStateIsResetBeforeReuse() throws SQLException {
        int firstPid;
        try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
            firstPid = backendPid(s);
            s.execute("SET search_path = pg_catalog");
            s.execute("PREPARE pooled_stmt AS SELECT 1");
            s.execute("SELECT pg_advisory_lock(4242)");
        }
        try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
            assertThat(backendPid(s)).as("same backend reused").isEqualTo(firstPid);
            assertThat(scalar(s, "SHOW search_path")).isEqualTo("\"$user\", public");
            assertThat(scalar(s, "SELECT count(*) FROM pg_prepared_statements")).isEqualTo("0");
            assertThat(scalar(s, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"))
                    .isEqualTo("0");
        }
    }

    /** A reset drops temporary tables but not the temp namespace: such a backend is not given to another client. */
    @Test
    void aBackendThatHadTemporaryObjectsIsNotReused() throws SQLException {
        int firstPid;
        try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
            firstPid = backendPid(s);
            s.execute("CREATE TEMP TABLE pooled_temp (x int)");
        }
        try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
            assertThat(backendPid(s)).as("a fresh backend").isNotEqualTo(firstPid);
            assertThat(scalar(s, "SELECT to_regclass('pg_temp.pooled_temp') IS NULL")).isEqualTo("t");
        }
    }

    @Test
    void abandonedTransactionIsRolledBack() throws Exception {
        int pid;
        try (RawPgClient client = new RawPgClient(proxy.host(), proxy.port())) {
            client.login("app", "app");
            client.send(new Query("BEGIN; INSERT INTO pooling_rows VALUES (1); SELECT pg_backend_pid()"));
            RawPgClient.Received row = client.readUntil('D');
            pid = Integer.parseInt(new String(row.body(), 6, row.body().length - 6, StandardCharsets.US_ASCII));
            RawPgClient.Received ready = client.readUntil('Z');
            assertThat(ready.body()[0]).isEqualTo((byte) 'T');
            // Gone without Terminate, in the middle of the transaction.
        }
        try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
            assertThat(backendPid(s)).as("backend reused after rollback").isEqualTo(pid);
            // Inside the abandoned transaction the row would be visible.
            assertThat(scalar(s, "SELECT count(*) FROM pooling_rows")).isEqualTo("0");
        }
    }

    @Test
    void backendAbandonedMidQueryIsClosedNotReused() throws Exception {
        int pid;
        try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
            pid = backendPid(s);
        }
        try (RawPgClient client = new RawPgClient(proxy.host(), proxy.port())) {
            client.login("app", "app");
            client.send(new Query("SELECT pg_sleep(3)"));
            Thread.sleep(200);
        }
        long start = System.nanoTime();
        try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
            assertThat(backendPid(s)).as("a fresh backend").isNotEqualTo(pid);
        }
        assertThat((System.nanoTime() - start) / 1_000_000).as("did not wait for the abandoned query")
                .isLessThan(2500);
        assertThat(appPool().total()).isLessThanOrEqualTo(1);
    }

    @Test
    void clientLimitIsAnsweredWith53300() throws Exception {
        try (TestProxy limited = TestProxy.start("max-client-connections: 2\n")) {
            List<Connection> open = new ArrayList<>();
            try {
                for (int i = 0; i < 2; i++) {
                    open.add(limited.connect());
                }
                assertThatThrownBy(() -> limited.connect().close())
                        .isInstanceOf(SQLException.class)
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("53300"))
                        .hasMessageContaining("too many clients");
                open.remove(0).close();
                Thread.sleep(200);
                try (Connection again = limited.connect(); Statement s = again.createStatement()) {
                    assertThat(scalar(s, "SELECT 'admitted'")).isEqualTo("admitted");
                }
            } finally {
                for (Connection c : open) {
                    c.close();
                }
            }
        }
    }

    @Test
    void aServerConnectionIdleLongerThanTheIdleTimeoutIsClosed() throws Exception {
        try (TestProxy shortIdle = TestProxy.start("""
                routing: { reads-to-replicas: false }
                pool: { idle-timeout: 1s }
                """)) {
            int pid;
            try (Connection c = shortIdle.connect(); Statement s = c.createStatement()) {
                pid = backendPid(s);
            }
            // Reset and back in its pool first, then closed by the idle sweep.
            await().atMost(Duration.ofSeconds(5)).until(() -> pool(shortIdle).idle() >= 1);
            PoolStats afterUse = pool(shortIdle);
            await().atMost(Duration.ofSeconds(10)).until(() -> pool(shortIdle).total() == 0);
            assertThat(pool(shortIdle).closed()).isGreaterThan(afterUse.closed());
            try (Connection direct = shortIdle.cluster().primary().connect("app", LocalCluster.SUPERUSER,
                    shortIdle.cluster().superuser().password());
                 Statement s = direct.createStatement()) {
                await().atMost(Duration.ofSeconds(10)).until(() ->
                        scalar(s, "SELECT count(*) FROM pg_stat_activity WHERE pid = " + pid).equals("0"));
            }
        }
    }

    private static PoolStats pool(TestProxy of) {
        return of.relay().proxy().view().pools().stream()
                .filter(p -> p.user().equals("app") && p.database().equals("app"))
                .findFirst().orElseThrow();
    }
}
