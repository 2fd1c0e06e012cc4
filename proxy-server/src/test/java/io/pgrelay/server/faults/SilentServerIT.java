package io.pgrelay.server.faults;

import io.pgrelay.server.testing.AdminClient;
import io.pgrelay.server.testing.TestProxy;
import io.pgrelay.testkit.LocalNode;
import io.pgrelay.testkit.TestCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * backend.query-timeout: a statement that runs too long is cancelled (the client gets the
 * server's 57014); a server that does not even answer the cancel is frozen: a read caught on it
 * runs again on the primary instead of hanging until the server thaws, and the replica is
 * banned with a reason the REST API shows.
 */
class SilentServerIT {
    private static final String READ = "SELECT count(*), current_setting('port')::int FROM silent_reads";
    private static TestProxy proxy;
    private static AdminClient admin;

    @BeforeAll
    static void start() throws Exception {
        proxy = TestProxy.start("""
                monitor: { user: postgres, password: postgres, interval: 250ms, query-timeout: 1s, ban-time: 2s }
                backend: { query-timeout: 1s }
                """);
        admin = new AdminClient(proxy);
        try (Connection c = proxy.connect(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS silent_reads (id int)");
            st.execute("TRUNCATE silent_reads");
            st.execute("INSERT INTO silent_reads SELECT generate_series(1, 10)");
        }
        TestCluster.get().waitForReplication(Duration.ofSeconds(30));
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
    }

    @Test
    void aStatementRunningLongerThanTheTimeoutIsCancelled() throws SQLException {
        try (Connection c = proxy.connect(); Statement st = c.createStatement()) {
            long began = System.nanoTime();
            assertThatThrownBy(() -> st.execute("/* pgrelay:primary */ SELECT pg_sleep(20)"))
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("57014"));
            long millis = (System.nanoTime() - began) / 1_000_000;
            assertThat(millis).as("cancelled after the 1 s timeout").isBetween(900L, 8000L);
            try (ResultSet rs = st.executeQuery("SELECT 1")) {
                assertThat(rs.next()).as("the session goes on").isTrue();
            }
        }
    }

    @Test
    void aReadCaughtOnAFrozenReplicaRunsOnThePrimary() throws Exception {
        List<LocalNode> replicas = TestCluster.get().replicas();
        try (Connection c = proxy.connect(); Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery(READ)) {
                rs.next();
                assertThat(rs.getInt(2)).as("such a read goes to a replica")
                        .isIn(replicas.stream().map(LocalNode::port).toList());
            }
            long began;
            replicas.forEach(LocalNode::sigstop);
            try {
                began = System.nanoTime();
                try (ResultSet rs = st.executeQuery(READ)) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getInt(1)).isEqualTo(10);
                    assertThat(rs.getInt(2)).as("answered by the primary")
                            .isEqualTo(TestCluster.get().primary().port());
                }
                long millis = (System.nanoTime() - began) / 1_000_000;
                // Frozen for 12 s: without the timeout the read would wait for the thaw.
                assertThat(millis).as("the read's answer while both replicas are frozen (ms)").isLessThan(6000);
                JsonNode banned = await().atMost(Duration.ofSeconds(5)).until(SilentServerIT::bannedReplica,
                        node -> node != null);
                assertThat(banned.get("state").asText()).isEqualTo("down");
                assertThat(banned.get("ban").get("cause").asText()).isIn("probe-timeout", "query-timeout");
                Thread.sleep(Math.max(0, 12_000 - (System.nanoTime() - began) / 1_000_000));
            } finally {
                replicas.forEach(LocalNode::sigcont);
            }
        }
        await().atMost(Duration.ofSeconds(30)).until(() ->
                replicas.stream().allMatch(r -> "up".equals(admin.state(r.name()))));
    }

    private static JsonNode bannedReplica() {
        for (JsonNode node : admin.cluster().get("nodes")) {
            if (node.hasNonNull("ban")) {
                return node;
            }
        }
        return null;
    }
}
