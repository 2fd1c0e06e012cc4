package io.pgrelay.testkit;

import static io.pgrelay.testkit.LocalClusterIT.query;
import static io.pgrelay.testkit.LocalClusterIT.waitUntil;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Destructive operations on the shared {@link LocalCluster}: SIGKILL, promotion, split brain.
 * Every test ends with {@link LocalCluster#resetToInitialTopology()} and checks that pg1 is the
 * primary again with pg2 and pg3 streaming from it.
 */
class LocalClusterFailoverIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private static LocalCluster cluster;
    private static LocalNode pg1;
    private static LocalNode pg2;
    private static LocalNode pg3;

    @BeforeAll
    static void cluster() {
        cluster = TestCluster.get();
        pg1 = cluster.node("pg1");
        pg2 = cluster.node("pg2");
        pg3 = cluster.node("pg3");
    }

    @AfterEach
    void restoreInitialTopology() throws Exception {
        cluster.resetToInitialTopology();
        assertInitialTopology();
    }

    @Test
    void kill9OfThePrimaryThenPromotionRepointAndRebuild() throws Exception {
        String table = "it_failover_" + System.nanoTime();
        cluster.execute("app", "CREATE TABLE " + table + " (v text)");
        cluster.execute("app", "INSERT INTO " + table + " VALUES ('before')");
        cluster.waitForReplication(TIMEOUT);

        int pid = pg1.serverPid();
        List<Long> children = OsSupport.descendants(pid);
        assertThat(children).as("postmaster children").isNotEmpty();
        pg1.kill9();
        assertThat(pg1.isRunning()).isFalse();
        assertThat(OsSupport.isAlive(pid)).isFalse();
        assertThat(children).allSatisfy(child -> assertThat(OsSupport.isAlive(child))
                .as("child %d alive", child).isFalse());
        assertThat(OsSupport.isListening(pg1.port())).isFalse();
        assertThatThrownBy(() -> pg1.connect("app", "app", "app").close()).isInstanceOf(SQLException.class);
        assertThatThrownBy(cluster::primary).isInstanceOf(LocalClusterException.class)
                .hasMessageContaining("no primary");

        // promote the replica that received the most WAL, as a real failover would
        LocalNode candidate = lsnAtLeast(pg2.receiveLsn(), pg3.receiveLsn()) ? pg2 : pg3;
        LocalNode other = candidate == pg2 ? pg3 : pg2;
        candidate.promote();
        assertThat(candidate.isInRecovery()).isFalse();
        assertThat(cluster.primary()).isSameAs(candidate);
        assertThat(query(candidate, "postgres", "SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)"))
                .as("timeline after promotion").isNotEqualTo("00000001");

        other.repointTo(candidate);
        assertThat(other.isStreamingFrom(candidate)).isTrue();
        try (var c = candidate.connect("app", "postgres", "postgres"); var st = c.createStatement()) {
            st.execute("INSERT INTO " + table + " VALUES ('after')");
        }
        other.waitForReplay(candidate.currentWalLsn(), TIMEOUT);
        assertThat(rows(other, table)).containsExactly("after", "before");

        pg1.rebuildAsReplicaOf(candidate);
        assertThat(pg1.isRunning()).isTrue();
        assertThat(pg1.isInRecovery()).isTrue();
        assertThat(pg1.isStreamingFrom(candidate)).isTrue();
        assertThat(rows(pg1, table)).containsExactly("after", "before");
        assertThat(cluster.replicas()).containsExactlyInAnyOrder(pg1, other);

        // back to pg1 primary: the data written after the failover must survive the switch back
        cluster.resetToInitialTopology();
        assertInitialTopology();
        for (LocalNode node : cluster.nodes()) {
            assertThat(rows(node, table)).as("rows on %s", node.name()).containsExactly("after", "before");
        }
        cluster.execute("app", "DROP TABLE " + table);
    }

    @Test
    void kill9OfAReplicaThenStartRunsCrashRecoveryAndCatchesUp() throws Exception {
        int pid = pg2.serverPid();
        pg2.kill9();
        assertThat(pg2.isRunning()).isFalse();
        assertThat(OsSupport.isAlive(pid)).isFalse();
        assertThat(OsSupport.isListening(pg2.port())).isFalse();
        pg2.kill9(); // idempotent

        String table = "it_kill_replica_" + System.nanoTime();
        cluster.execute("app", "CREATE TABLE " + table + " AS SELECT 'written while pg2 was dead'::text AS v");
        String lsn = pg1.currentWalLsn();

        pg2.start();
        assertThat(pg2.serverPid()).isNotEqualTo(pid);
        assertThat(pg2.isInRecovery()).isTrue();
        pg2.waitForReplay(lsn, TIMEOUT);
        assertThat(rows(pg2, table)).containsExactly("written while pg2 was dead");
        cluster.execute("app", "DROP TABLE " + table);
    }

    @Test
    void immediateStopOfThePrimaryLeavesReadableReplicasThatReconnect() throws Exception {
        String table = "it_primary_restart_" + System.nanoTime();
        cluster.execute("app", "CREATE TABLE " + table + " AS SELECT 'x'::text AS v");
        cluster.waitForReplication(TIMEOUT);

        pg1.stopImmediate();
        assertThat(pg1.isRunning()).isFalse();
        for (LocalNode replica : List.of(pg2, pg3)) {
            assertThat(replica.isInRecovery()).isTrue();
            assertThat(rows(replica, table)).containsExactly("x");
        }

        pg1.start();
        assertThat(pg1.isInRecovery()).isFalse();
        waitUntil(TIMEOUT, "replicas reconnect", () -> pg2.isStreamingFrom(pg1) && pg3.isStreamingFrom(pg1));
        cluster.execute("app", "INSERT INTO " + table + " VALUES ('y')");
        cluster.waitForReplication(TIMEOUT);
        assertThat(rows(pg3, table)).containsExactly("x", "y");
        cluster.execute("app", "DROP TABLE " + table);
    }

    @Test
    void resetToInitialTopologyRepairsSplitBrainStoppedAndSuspendedNodes() throws Exception {
        pg3.promote();
        assertThatThrownBy(cluster::primary).isInstanceOf(LocalClusterException.class)
                .hasMessageContaining("more than one primary");
        pg2.stop();
        pg1.setConf("work_mem", "5MB");
        pg1.sigstop();

        cluster.resetToInitialTopology();

        assertThat(pg1.isSuspended()).isFalse();
        assertThat(query(pg1, "postgres", "SHOW work_mem")).isEqualTo("4MB");
        assertInitialTopology();
    }

    @Test
    void rebuildingAReplicaGivesAFreshCopyOnTheSamePort() throws Exception {
        int port = pg3.port();
        String table = "it_rebuild_" + System.nanoTime();
        cluster.execute("app", "CREATE TABLE " + table + " AS SELECT 'copied'::text AS v");
        pg3.rebuildAsReplicaOf(pg1);
        assertThat(pg3.port()).isEqualTo(port);
        assertThat(pg3.isInRecovery()).isTrue();
        assertThat(pg3.isStreamingFrom(pg1)).isTrue();
        assertThat(rows(pg3, table)).containsExactly("copied");
        assertThat(LocalClusterIT.queryAll(pg1, "postgres", "SELECT slot_name FROM pg_replication_slots"))
                .containsExactlyInAnyOrder("pg2", "pg3");
        cluster.execute("app", "DROP TABLE " + table);
    }

    // ------------------------------------------------------------------ helpers

    private static void assertInitialTopology() throws Exception {
        assertThat(pg1.isRunning()).isTrue();
        assertThat(pg1.isInRecovery()).as("pg1 in recovery").isFalse();
        assertThat(cluster.primary()).isSameAs(pg1);
        for (LocalNode replica : List.of(pg2, pg3)) {
            assertThat(replica.isRunning()).as("%s running", replica.name()).isTrue();
            assertThat(replica.isSuspended()).isFalse();
            assertThat(replica.isInRecovery()).as("%s in recovery", replica.name()).isTrue();
            assertThat(replica.isReplayPaused()).isFalse();
            assertThat(replica.isStreamingFrom(pg1)).as("%s streams from pg1", replica.name()).isTrue();
        }
        assertThat(cluster.replicas()).containsExactly(pg2, pg3);
        cluster.execute("postgres", "SELECT txid_current()");
        cluster.waitForReplication(TIMEOUT);
    }

    private static boolean lsnAtLeast(String a, String b) throws SQLException {
        return "true".equals(query(pg1.isRunning() ? pg1 : cluster.replicas().get(0), "postgres",
                "SELECT ('" + a + "'::pg_lsn >= '" + b + "'::pg_lsn)::text"));
    }

    private static List<String> rows(LocalNode node, String table) throws SQLException {
        List<String> rows = new ArrayList<>();
        try (var c = node.connect("app", "postgres", "postgres"); var st = c.createStatement();
             var rs = st.executeQuery("SELECT v FROM " + table + " ORDER BY v")) {
            while (rs.next()) {
                rows.add(rs.getString(1));
            }
        }
        return rows;
    }
}
