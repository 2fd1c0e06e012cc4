package io.pgrelay.server.console;

import io.pgrelay.server.testing.TestProxy;
import io.pgrelay.testkit.LocalNode;
import io.pgrelay.testkit.Processes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The SQL admin console (database {@code pgrelay}) against the real cluster, through psql
 * and pgjdbc in simple query mode: every command, its errors, and who may use it. The
 * mutating commands run against a cluster of their own in {@link ConsoleOperationsIT}.
 */
class ConsoleIT {
    private static TestProxy proxy;

    @BeforeAll
    static void start() throws SQLException {
        // console-users defaults to the monitor user (postgres); app_md5 is added to prove the key works.
        proxy = TestProxy.start("""
                admin: { listen: 127.0.0.1:0, token: console-test-token, console-users: [postgres, app_md5] }
                """);
        // Something for the pools, clients and stats to show.
        try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
            s.execute("/* pgrelay:primary */ SELECT 1");
        }
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
    }

    private static Connection console(String user, String password) throws SQLException {
        Properties props = new Properties();
        props.setProperty("preferQueryMode", "simple");
        props.setProperty("ApplicationName", "console-it");
        return proxy.connect("pgrelay", user, password, props);
    }

    private static Connection console() throws SQLException {
        return console("postgres", "postgres");
    }

    /** Column name → values, in order, for every row. */
    static List<Map<String, String>> rows(Connection c, String sql) throws SQLException {
        List<Map<String, String>> rows = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            ResultSetMetaData meta = rs.getMetaData();
            while (rs.next()) {
                Map<String, String> row = new LinkedHashMap<>();
                for (int i = 1; i <= meta.getColumnCount(); i++) {
                    row.put(meta.getColumnName(i), rs.getString(i));
                }
                rows.add(row);
            }
        }
        return rows;
    }

    private static Processes.Result psql(String user, String password, String... args) {
        List<String> command = new ArrayList<>();
        command.add(Processes.pgProgram("psql"));
        command.add(proxy.libpqUri(user, password, "pgrelay") + "?sslmode=disable");
        command.add("-X");
        command.addAll(List.of(args));
        return Processes.run(command, Map.of(), null, Duration.ofSeconds(30));
    }

    @Test
    void psqlShowNodes() {
        Processes.Result result = psql("postgres", "postgres", "-A", "-F", "|", "-c", "show nodes;");
        assertThat(result.exitCode()).as(result.output()).isZero();
        List<String> lines = result.stdout().lines().toList();
        assertThat(lines.get(0)).startsWith("name|host|port|role|state|lag_bytes|lag_ms|replay_lsn|current_lsn|timeline");
        assertThat(lines).contains("(3 rows)");
        LocalNode primary = proxy.cluster().primary();
        assertThat(lines).anySatisfy(line -> assertThat(line)
                .startsWith(primary.name() + "|" + primary.host() + "|" + primary.port() + "|primary|up|0|"));
        for (LocalNode replica : proxy.cluster().replicas()) {
            assertThat(lines).anySatisfy(line -> assertThat(line)
                    .startsWith(replica.name() + "|" + replica.host() + "|" + replica.port() + "|replica|"));
        }
    }

    @Test
    void psqlRunsSeveralCommandsAndKeepsGoingAfterAnError() {
        Processes.Result result = psql("postgres", "postgres", "-At",
                "-c", "SHOW VERSION", "-c", "SHOW TABLES", "-c", "Show Help");
        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.stdout()).contains("pgrelay 0.1.0-SNAPSHOT").contains("SHOW NODES|");
        assertThat(result.stderr()).contains("unknown console command: \"SHOW TABLES\"")
                .contains("HINT:  console commands: SHOW NODES");
    }


    @Test
    void psqlRefusesUsersNotInConsoleUsers() {
        Processes.Result result = psql("app", "app", "-c", "SHOW NODES");
        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.stderr()).contains("permission denied: user \"app\" may not use the pgrelay admin console");
    }

    @Test
    void jdbcShowNodes() throws SQLException {
        try (Connection c = console()) {
            List<Map<String, String>> nodes = rows(c, "SHOW NODES");
            assertThat(nodes).extracting(row -> row.get("name")).containsExactly("pg1", "pg2", "pg3");
            LocalNode primary = proxy.cluster().primary();
            Map<String, String> primaryRow = nodes.stream().filter(r -> r.get("name").equals(primary.name()))
                    .findFirst().orElseThrow();
            assertThat(primaryRow).containsEntry("role", "primary").containsEntry("state", "up")
                    .containsEntry("port", String.valueOf(primary.port())).containsEntry("lag_bytes", "0")
                    .containsEntry("weight", "1");
            assertThat(primaryRow.get("current_lsn")).matches("[0-9A-F]+/[0-9A-F]+");
            assertThat(Long.parseLong(primaryRow.get("timeline"))).isPositive();
            assertThat(Long.parseLong(primaryRow.get("connections"))).isPositive();
            for (Map<String, String> row : nodes) {
                if (!row.get("name").equals(primary.name())) {
                    assertThat(row).containsEntry("role", "replica");
                    assertThat(row.get("replay_lsn")).matches("[0-9A-F]+/[0-9A-F]+");
                }
            }
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW NODES")) {
                assertThat(rs.getMetaData().getColumnType(3)).isEqualTo(Types.BIGINT);
                assertThat(rs.getMetaData().getColumnType(1)).isEqualTo(Types.VARCHAR);
            }
        }
    }

    @Test
    void jdbcShowPools() throws SQLException {
        String primary = proxy.cluster().primary().name();
        try (Connection c = console()) {
            List<Map<String, String>> pools = rows(c, "show pools");
            assertThat(pools).anySatisfy(row -> {
                assertThat(row).containsEntry("node", primary).containsEntry("user", "app")
                        .containsEntry("database", "app").containsEntry("max", "50").containsEntry("waiting", "0");
                assertThat(Long.parseLong(row.get("opened"))).isPositive();
                assertThat(Long.parseLong(row.get("active")) + Long.parseLong(row.get("idle"))).isPositive();
            });
            assertThat(pools.get(0).keySet())
                    .containsExactly("node", "user", "database", "active", "idle", "waiting", "max", "opened", "closed");
        }
    }

    @Test
    void jdbcShowClients() throws SQLException {
        Connection app = proxy.connect();
        try (Connection c = console()) {
            List<Map<String, String>> clients = rows(c, "SHOW CLIENTS");
            assertThat(clients).anySatisfy(row -> assertThat(row).containsEntry("user", "app")
                    .containsEntry("database", "app").containsEntry("address", "127.0.0.1"));
            assertThat(clients).anySatisfy(row -> {
                assertThat(row).containsEntry("user", "postgres").containsEntry("database", "pgrelay")
                        .containsEntry("state", "console").containsEntry("application_name", "console-it");
                assertThat(row.get("connected_since")).matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\+00");
                assertThat(Integer.parseInt(row.get("port"))).isPositive();
            });
            int before = clients.size();
            try (Statement s = c.createStatement()) {
                s.execute("SET application_name = 'renamed console'");
            }
            assertThat(rows(c, "SHOW CLIENTS")).anySatisfy(row -> assertThat(row)
                    .containsEntry("state", "console").containsEntry("application_name", "renamed console"));
            app.close();
            // The registry drops a client when its channel closes, which happens just after close() returns.
            long deadline = System.currentTimeMillis() + 5000;
            int after = before;
            while (after >= before && System.currentTimeMillis() < deadline) {
                after = rows(c, "SHOW CLIENTS").size();
            }
            assertThat(after).isEqualTo(before - 1);
        } finally {
            app.close();
        }
    }

    @Test
    void jdbcShowStats() throws SQLException {
        String primary = proxy.cluster().primary().name();
        try (Connection c = console()) {
            List<Map<String, String>> stats = rows(c, "SHOW STATS");
            assertThat(stats).extracting(row -> row.get("node")).containsExactly("pg1", "pg2", "pg3");
            assertThat(stats.get(0).keySet()).containsExactly("node", "statements", "primary_only", "replica_safe",
                    "bytes_sent", "bytes_received", "connections_opened", "connections_closed", "up_transitions",
                    "down_transitions");
            Map<String, String> primaryRow = stats.stream().filter(r -> r.get("node").equals(primary))
                    .findFirst().orElseThrow();
            assertThat(Long.parseLong(primaryRow.get("connections_opened"))).isPositive();
        }
    }

    @Test
    void jdbcShowConfigMasksSecrets() throws SQLException {
        try (Connection c = console()) {
            Map<String, String> config = new HashMap<>();
            for (Map<String, String> row : rows(c, "SHOW CONFIG")) {
                config.put(row.get("key"), row.get("value"));
            }
            assertThat(config).containsEntry("admin.token", "********")
                    .containsEntry("auth.users.app.password", "********")
                    .containsEntry("monitor.password", "********")
                    .containsEntry("monitor.user", "postgres")
                    .containsEntry("monitor.interval", "250ms")
                    .containsEntry("admin.console-users", "[postgres, app_md5]")
                    .containsEntry("nodes.pg1.port", String.valueOf(proxy.cluster().node("pg1").port()))
                    .containsEntry("pool-mode", "session");
            assertThat(config.values()).doesNotContain("console-test-token");
        }
    }

    @Test
    void jdbcShowVersionAndHelp() throws SQLException {
        try (Connection c = console()) {
            assertThat(rows(c, "SHOW VERSION;")).singleElement()
                    .satisfies(row -> assertThat(row.get("version")).isEqualTo("pgrelay 0.1.0-SNAPSHOT"));
            assertThat(rows(c, "SHOW HELP")).extracting(row -> row.get("command"))
                    .contains("SHOW NODES", "SHOW POOLS", "SHOW CLIENTS", "SHOW STATS", "SHOW PROXIES", "SHOW CONFIG",
                            "SWITCHOVER [TO node]", "FAILOVER [TO node]", "DRAIN node", "ENABLE node", "FENCE node",
                            "UNFENCE node", "REMOVE NODE node", "ADD NODE name host port [weight]",
                            "SET REPLICATION MODE async | semi-sync [n] | sync");
        }
    }

    @Test
    void jdbcShowProxiesWithoutCoordinationListsThisInstance() throws SQLException {
        try (Connection c = console()) {
            assertThat(rows(c, "SHOW PROXIES")).singleElement().satisfies(row -> {
                assertThat(row.keySet()).containsExactly("id", "address", "admin", "version", "started_at", "self",
                        "leader", "advertised", "slot");
                assertThat(row.get("leader")).as("alone, an instance leads").isEqualTo("t");
                assertThat(row.get("slot")).as("alone, no cancel-key slot").isNull();
                assertThat(row.get("address")).isEqualTo("127.0.0.1:" + proxy.port());
                assertThat(row.get("admin")).isEqualTo("127.0.0.1:" + proxy.relay().adminAddress().getPort());
                assertThat(row.get("version")).isEqualTo("0.1.0-SNAPSHOT");
                assertThat(row.get("self")).isEqualTo("t");
            });
        }
    }

    @Test
    void jdbcUnknownCommandIsASyntaxErrorAndTheConnectionStaysUsable() throws SQLException {
        try (Connection c = console(); Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.executeQuery("SELECT * FROM pg_class"))
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("42601");
                        assertThat(e.getMessage()).contains("unknown console command")
                                .contains("SHOW NODES | POOLS | CLIENTS");
                    });
            assertThat(rows(c, "SHOW VERSION")).hasSize(1);
        }
    }

    @Test
    void jdbcMutatingCommandsRejectBadInputAndKeepTheConnection() throws SQLException {
        try (Connection c = console(); Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.execute("DRAIN nosuchnode")).isInstanceOfSatisfying(SQLException.class,
                    e -> assertThat(e.getSQLState()).isEqualTo("42704"));
            assertThatThrownBy(() -> s.execute("SET REPLICATION MODE sometimes")).isInstanceOfSatisfying(
                    SQLException.class, e -> assertThat(e.getSQLState()).isIn("22023", "42601"));
            assertThatThrownBy(() -> s.execute("DRAIN")).isInstanceOfSatisfying(SQLException.class,
                    e -> assertThat(e.getSQLState()).isEqualTo("42601"));
            // Nothing changed: every node is still there and none is drained or fenced.
            assertThat(rows(c, "SHOW NODES")).hasSize(3)
                    .allSatisfy(row -> assertThat(row.get("state")).isIn("up", "lagging"));
        }
    }

    @Test
    void jdbcExtendedProtocolIsRefusedClearly() throws SQLException {
        Properties props = new Properties();
        props.setProperty("preferQueryMode", "extended");
        try (Connection c = proxy.connect("pgrelay", "postgres", "postgres", props)) {
            try (PreparedStatement ps = c.prepareStatement("SHOW NODES")) {
                assertThatThrownBy(ps::executeQuery).isInstanceOfSatisfying(SQLException.class, e -> {
                    assertThat(e.getSQLState()).isEqualTo("0A000");
                    assertThat(e.getMessage()).contains("simple query protocol");
                });
            }
            // After the Sync the session answers again.
            assertThatThrownBy(() -> c.prepareStatement("SHOW VERSION").executeQuery())
                    .isInstanceOf(SQLException.class);
            assertThat(c.isClosed()).isFalse();
        }
    }

    @Test
    void consoleUsersFromTheConfigAreAllowedOthersRefused() throws SQLException {
        try (Connection c = console("app_md5", "app_md5")) {
            assertThat(rows(c, "SHOW VERSION")).hasSize(1);
        }
        assertThatThrownBy(() -> console("app", "app")).isInstanceOfSatisfying(SQLException.class, e -> {
            assertThat(e.getSQLState()).isEqualTo("42501");
            assertThat(e.getMessage()).contains("admin.console-users");
        });
        assertThatThrownBy(() -> console("postgres", "wrong")).isInstanceOfSatisfying(SQLException.class,
                e -> assertThat(e.getSQLState()).isEqualTo("28P01"));
    }
}
