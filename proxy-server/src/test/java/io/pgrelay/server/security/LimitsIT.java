package io.pgrelay.server.security;

import io.pgrelay.protocol.message.backend.ErrorResponse;
import io.pgrelay.protocol.message.frontend.Query;
import io.pgrelay.server.testing.RawPgClient;
import io.pgrelay.server.testing.TestProxy;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Arrays;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The client limits with real clients: connections per user and per database (53300 as the
 * server words it), the startup timeout against clients that stall before or during
 * authentication, the idle timeouts (57P05, 25P03), and statements longer than the parser's
 * limit (they run, on the primary).
 */
class LimitsIT {
    private static TestProxy proxy;

    @BeforeAll
    static void start() {
        // postgres logs in by trust so that a bare socket can; app uses SCRAM through pgjdbc.
        proxy = TestProxy.start("""
                auth:
                  users:
                    - { name: app, password: app }
                    - { name: postgres, password: postgres, method: trust }
                limits:
                  users: { app: 2 }
                  databases: { postgres: 1 }
                  client-startup-timeout: 1500ms
                  client-idle-timeout: 3s
                  client-idle-in-transaction-timeout: 3s
                routing: { max-statement-length: 1024 }
                """);
    }

    @AfterAll
    static void stop() {
        proxy.close();
    }

    // ---- connections per user and per database ----

    @Test
    void theUsersLimitIsEnforcedAfterAuthenticationAndFreedOnClose() throws SQLException {
        try (Connection first = proxy.connect(); Connection second = proxy.connect()) {
            assertThatThrownBy(() -> proxy.connect().close())
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("53300"))
                    .hasMessageContaining("too many connections for role \"app\"");
            // A wrong password is refused as such, not counted against the user.
            assertThatThrownBy(() -> proxy.connect("app", "app", "wrong", new Properties()).close())
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28P01"));
            assertThat(query(first, "SELECT 1")).isEqualTo("1");
            assertThat(query(second, "SELECT 2")).isEqualTo("2");
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            try (Connection again = proxy.connect()) {
                assertThat(query(again, "SELECT 'again'")).isEqualTo("again");
            }
        });
    }

    @Test
    void theDatabasesLimitIsEnforced() throws Exception {
        try (RawPgClient first = new RawPgClient(proxy.host(), proxy.port())) {
            first.login("postgres", "postgres");
            try (RawPgClient second = new RawPgClient(proxy.host(), proxy.port())) {
                second.startup("postgres", "postgres");
                ErrorResponse error = second.readError();
                assertThat(error.sqlState()).isEqualTo("53300");
                assertThat(error.message()).isEqualTo("too many connections for database \"postgres\"");
                assertThat(error.isFatal()).isTrue();
                assertThat(second.closedByServer(5000)).isTrue();
            }
        }
    }

    // ---- the startup timeout ----

    @Test
    void aClientThatSendsHalfAStartupPacketIsClosed() throws Exception {
        try (RawPgClient client = new RawPgClient(proxy.host(), proxy.port())) {
            byte[] startup = startupBytes("app", "app");
            client.send(Arrays.copyOf(startup, startup.length / 2));
            long started = System.nanoTime();

            assertThat(client.closedByServer(15_000)).as("closed by pgrelay").isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThan(Duration.ofMillis(1000));
        }
    }

    @Test
    void aClientThatStallsInAuthenticationGetsQueryCanceled() throws Exception {
        try (RawPgClient client = new RawPgClient(proxy.host(), proxy.port())) {
            client.startup("app", "app");
            assertThat(client.read().type()).isEqualTo('R'); // SASL request, never answered

            ErrorResponse error = client.readError();

            assertThat(error.sqlState()).isEqualTo("57014");
            assertThat(error.message()).isEqualTo("canceling authentication due to timeout");
            assertThat(client.closedByServer(5000)).isTrue();
        }
    }

    // ---- idle timeouts ----

    @Test
    void anIdleSessionIsEndedWith57P05() throws Exception {
        try (RawPgClient client = new RawPgClient(proxy.host(), proxy.port())) {
            client.login("postgres", "app");
            long started = System.nanoTime();

            ErrorResponse error = client.readError();

            assertThat(error.sqlState()).isEqualTo("57P05");
            assertThat(error.message()).isEqualTo("terminating connection due to idle-session timeout");
            assertThat(error.isFatal()).isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofMillis(2500));
            assertThat(client.closedByServer(5000)).isTrue();
        }
    }

    @Test
    void anIdleTransactionIsEndedWith25P03() throws Exception {
        try (RawPgClient client = new RawPgClient(proxy.host(), proxy.port())) {
            client.login("postgres", "app");
            client.send(new Query("BEGIN; SELECT 1"));
            client.readUntil('Z');

            ErrorResponse error = client.readError();

            assertThat(error.sqlState()).isEqualTo("25P03");
            assertThat(error.message()).isEqualTo("terminating connection due to idle-in-transaction timeout");
            assertThat(client.closedByServer(5000)).isTrue();
        }
    }

    @Test
    void aLongStatementIsNotIdleTime() throws Exception {
        try (RawPgClient client = new RawPgClient(proxy.host(), proxy.port())) {
            client.login("postgres", "app");
            client.send(new Query("SELECT pg_sleep(5), 'slept'"));
            RawPgClient.Received row = client.readUntil('D');
            client.readUntil('Z');
            assertThat(row.body()).isNotEmpty();
            // Then idle: ended after the idle timeout counted from the result, not from the query.
            long started = System.nanoTime();
            assertThat(client.readError().sqlState()).isEqualTo("57P05");
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofMillis(2000));
        }
    }

    @Test
    void aClientThatKeepsWorkingIsNeverIdle() throws Exception {
        try (Connection c = proxy.connect()) {
            long end = System.nanoTime() + Duration.ofSeconds(7).toNanos();
            while (System.nanoTime() < end) {
                assertThat(query(c, "SELECT 1")).isEqualTo("1");
                Thread.sleep(300);
            }
        }
    }

    // ---- statements longer than the parser's limit ----

    @Test
    void aStatementLongerThanTheParsersLimitRunsOnThePrimary() throws SQLException {
        String primaryPort = Integer.toString(proxy.cluster().primary().port());
        // Long in tokens, not only in literals or comments (those are not counted against the limit).
        String padding = "FROM (SELECT 1 AS a) s WHERE " + "a = a AND ".repeat(300) + "true";
        String port = "SELECT current_setting('port')";
        try (Connection c = proxy.connect()) {
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                    assertThat(query(c, port)).as("a short read goes to a replica").isNotEqualTo(primaryPort));
            for (int i = 0; i < 5; i++) {
                assertThat(query(c, port + " " + padding)).as("too long to parse: the primary").isEqualTo(primaryPort);
            }
        }
    }

    private static String query(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static byte[] startupBytes(String user, String database) {
        io.netty.buffer.ByteBuf buf = io.netty.buffer.Unpooled.buffer();
        try {
            new io.pgrelay.protocol.message.frontend.StartupMessage(
                    io.pgrelay.protocol.message.frontend.StartupMessage.PROTOCOL_3_0,
                    java.util.Map.of("user", user, "database", database)).encode(buf);
            return io.netty.buffer.ByteBufUtil.getBytes(buf);
        } finally {
            buf.release();
        }
    }
}
