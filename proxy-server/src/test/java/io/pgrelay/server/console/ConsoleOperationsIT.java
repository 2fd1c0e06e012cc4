package io.pgrelay.server.console;

import io.pgrelay.server.testing.TestProxy;
import io.pgrelay.testkit.LocalCluster;
import io.pgrelay.testkit.LocalNode;
import io.pgrelay.testkit.TestCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The console's mutating commands against a cluster of their own: each one changes what
 * SHOW NODES (and PostgreSQL itself) reports.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsoleOperationsIT {
    private static LocalCluster cluster;
    private static TestProxy proxy;

    @BeforeAll
    static void start() {
        cluster = TestCluster.startDedicated();
        proxy = TestProxy.start(cluster, "");
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    private static Connection console() throws SQLException {
        Properties props = new Properties();
        props.setProperty("preferQueryMode", "simple");
        return proxy.connect("pgrelay", "postgres", "postgres", props);
    }

    private static Map<String, String> node(Connection c, String name) throws SQLException {
        return ConsoleIT.rows(c, "SHOW NODES").stream().filter(row -> name.equals(row.get("name"))).findFirst()
                .orElse(null);
    }

    private static String setting(LocalNode node, String name) throws SQLException {
        try (Connection c = node.connect("postgres", "postgres", "postgres");
             Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW " + name)) {
            rs.next();
            return rs.getString(1);
        }
    }

    @Test
    @Order(1)
    void drainEnableFenceUnfence() throws SQLException {
        String replica = cluster.replicas().get(0).name();
        try (Connection c = console()) {
            assertThat(ConsoleIT.rows(c, "DRAIN " + replica)).isNotEmpty();
            assertThat(node(c, replica).get("state")).isEqualTo("drained");
            ConsoleIT.rows(c, "ENABLE " + replica);
            assertThat(node(c, replica).get("state")).isIn("up", "lagging");
            ConsoleIT.rows(c, "FENCE " + replica);
            assertThat(node(c, replica).get("state")).isEqualTo("fenced");
            ConsoleIT.rows(c, "UNFENCE " + replica);
            assertThat(node(c, replica).get("state")).isIn("up", "lagging");
        }
    }

    @Test
    @Order(2)
    void addAndRemoveANode() throws SQLException {
        try (Connection c = console()) {
            ConsoleIT.rows(c, "ADD NODE extra 127.0.0.1 1 2");
            Map<String, String> added = node(c, "extra");
            assertThat(added).isNotNull();
            assertThat(added.get("port")).isEqualTo("1");
            ConsoleIT.rows(c, "REMOVE NODE extra");
            assertThat(node(c, "extra")).isNull();
        }
    }

    @Test
    @Order(3)
    void replicationModes() throws SQLException {
        LocalNode primary = cluster.primary();
        try (Connection c = console()) {
            ConsoleIT.rows(c, "SET REPLICATION MODE semi-sync 1");
            assertThat(setting(primary, "synchronous_standby_names")).startsWith("ANY 1 (");
            ConsoleIT.rows(c, "SET REPLICATION MODE sync");
            assertThat(setting(primary, "synchronous_standby_names")).contains("2 (");
            ConsoleIT.rows(c, "SET REPLICATION MODE async");
            assertThat(setting(primary, "synchronous_standby_names")).isEmpty();
        }
    }

    @Test
    @Order(4)
    void switchoverThenFailover() throws SQLException {
        LocalNode target = cluster.replicas().get(0);
        try (Connection c = console()) {
            List<Map<String, String>> steps = ConsoleIT.rows(c, "SWITCHOVER TO " + target.name());
            assertThat(steps).as("one row per step").hasSizeGreaterThan(3)
                    .allSatisfy(row -> assertThat(row).containsKeys("step", "outcome", "millis"));
            assertThat(node(c, target.name()).get("role")).isEqualTo("primary");

            LocalNode next = cluster.nodes().stream()
                    .filter(n -> !n.name().equals(target.name()) && n.isRunning() && n.isInRecovery())
                    .findFirst().orElseThrow();
            ConsoleIT.rows(c, "FAILOVER TO " + next.name());
            assertThat(node(c, next.name()).get("role")).isEqualTo("primary");
            assertThat(node(c, target.name()).get("state")).isEqualTo("fenced");
        }
        try (Connection app = proxy.connect(); Statement s = app.createStatement();
             ResultSet rs = s.executeQuery("/* pgrelay:primary */ SELECT current_setting('port')::int")) {
            rs.next();
            assertThat(rs.getInt(1)).as("writes follow the console's failover").isNotEqualTo(target.port());
        }
    }
}
