package io.pgrelay.server.routing;

import io.pgrelay.server.testing.TestProxy;
import io.pgrelay.testkit.LocalCluster;
import io.pgrelay.testkit.LocalNode;
import io.pgrelay.testkit.TestCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashSet;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code routing.transaction-reads: first-statement}: a plain BEGIN is held and the
 * transaction runs where its first statement goes; with least-outstanding balancing.
 */
class FirstStatementTransactionsIT {
    private static TestProxy proxy;
    private static int primaryPort;
    private static Set<Integer> replicaPorts;

    @BeforeAll
    static void start() throws Exception {
        LocalCluster cluster = TestCluster.get();
        primaryPort = cluster.primary().port();
        replicaPorts = cluster.replicas().stream().map(LocalNode::port).collect(Collectors.toSet());
        proxy = TestProxy.start("routing: { transaction-reads: first-statement, balance: least-outstanding }\n");
        try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS first_statement_rows (id int)");
        }
        cluster.waitForReplication(java.time.Duration.ofSeconds(10));
        proxy.relay().proxy().catalogs().load("app").get(10, java.util.concurrent.TimeUnit.SECONDS);
    }

    @AfterAll
    static void stop() {
        proxy.close();
    }

    private static Connection simple() throws SQLException {
        Properties props = new Properties();
        props.setProperty("preferQueryMode", "simple");
        return proxy.connect("app", "app", "app", props);
    }

    private static int port(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            assertThat(rs.next()).as(sql).isTrue();
            return rs.getInt(1);
        }
    }

    @Test
    void transactionStartingWithAReadRunsOnAReplica() throws SQLException {
        try (Connection c = simple(); Statement s = c.createStatement()) {
            s.execute("BEGIN");
            int first = port(s, "SELECT current_setting('port')::int");
            assertThat(first).isIn(replicaPorts);
            assertThat(port(s, "SELECT current_setting('port')::int FROM (SELECT count(*) FROM first_statement_rows) x"))
                    .as("the whole transaction stays on its replica").isEqualTo(first);
            s.execute("COMMIT");
        }
    }

    @Test
    void transactionStartingWithAWriteRunsOnThePrimary() throws SQLException {
        try (Connection c = simple(); Statement s = c.createStatement()) {
            s.execute("BEGIN");
            assertThat(port(s, "INSERT INTO first_statement_rows VALUES (1) RETURNING current_setting('port')::int"))
                    .isEqualTo(primaryPort);
            assertThat(port(s, "SELECT current_setting('port')::int")).isEqualTo(primaryPort);
            s.execute("ROLLBACK");
        }
    }

    @Test
    void aWriteInsideAReplicaTransactionFailsAsDocumented() throws SQLException {
        try (Connection c = simple(); Statement s = c.createStatement()) {
            s.execute("BEGIN");
            assertThat(port(s, "SELECT current_setting('port')::int")).isIn(replicaPorts);
            assertThatThrownBy(() -> s.execute("INSERT INTO first_statement_rows VALUES (2)"))
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("25006"));
            s.execute("ROLLBACK");
            assertThat(port(s, "INSERT INTO first_statement_rows VALUES (3) RETURNING current_setting('port')::int"))
                    .as("the session goes on normally").isEqualTo(primaryPort);
        }
    }

    @Test
    void emptyTransactionNeverReachesAServer() throws SQLException {
        try (Connection c = simple(); Statement s = c.createStatement()) {
            s.execute("BEGIN");
            s.execute("COMMIT");
            s.execute("BEGIN");
            s.execute("ROLLBACK");
            assertThat(port(s, "SELECT current_setting('port')::int")).isIn(replicaPorts);
        }
    }

    @Test
    void leastOutstandingSpreadsReadsOverBothReplicas() throws SQLException {
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 20; i++) {
            try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
                seen.add(port(s, "SELECT current_setting('port')::int"));
            }
        }
        assertThat(seen).isEqualTo(replicaPorts);
    }
}
