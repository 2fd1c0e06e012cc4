package io.pgrelay.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;

import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Non-destructive behaviour of the shared {@link LocalCluster}: every test leaves pg1 primary and
 * pg2/pg3 streaming replicas. Destructive operations live in {@link LocalClusterFailoverIT}.
 */
class LocalClusterIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

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

    @Test
    void pg1IsThePrimaryAndTheOthersAreStreamingReplicas() throws Exception {
        assertThat(cluster.nodes()).extracting(LocalNode::name).containsExactly("pg1", "pg2", "pg3");
        assertThat(cluster.nodes()).extracting(LocalNode::host).containsOnly("127.0.0.1");
        assertThat(cluster.nodes()).extracting(LocalNode::port).doesNotHaveDuplicates();

        assertThat(pg1.isInRecovery()).isFalse();
        assertThat(pg2.isInRecovery()).isTrue();
        assertThat(pg3.isInRecovery()).isTrue();
        assertThat(cluster.primary()).isSameAs(pg1);
        assertThat(cluster.replicas()).containsExactly(pg2, pg3);

        Map<String, String> replication = new HashMap<>();
        try (Connection c = su(pg1, "postgres"); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT application_name, state FROM pg_stat_replication")) {
            while (rs.next()) {
                replication.put(rs.getString(1), rs.getString(2));
            }
        }
        assertThat(replication).containsEntry("pg2", "streaming").containsEntry("pg3", "streaming");
        assertThat(queryAll(pg1, "postgres", "SELECT slot_name || ':' || active FROM pg_replication_slots"))
                .contains("pg2:true", "pg3:true");

        for (LocalNode replica : List.of(pg2, pg3)) {
            assertThat(query(replica, "postgres", "SELECT sender_port::text FROM pg_stat_wal_receiver"))
                    .isEqualTo(String.valueOf(pg1.port()));
        }
        assertThat(cluster.describe())
                .contains("pg1 127.0.0.1:" + pg1.port() + " primary")
                .contains("pg2 127.0.0.1:" + pg2.port() + " replica of pg1 (streaming)")
                .contains("pg3 127.0.0.1:" + pg3.port() + " replica of pg1 (streaming)");
    }

    @Test
    void nodesListenWhereTheySayAndUseTheirOwnDirectories() throws Exception {
        for (LocalNode node : cluster.nodes()) {
            assertThat(node.jdbcUrl("app")).isEqualTo("jdbc:postgresql://127.0.0.1:" + node.port() + "/app");
            assertThat(query(node, "postgres", "SHOW port")).isEqualTo(String.valueOf(node.port()));
            assertThat(query(node, "postgres", "SHOW data_directory")).isEqualTo(node.dataDir().toString());
            assertThat(query(node, "postgres", "SHOW cluster_name")).isEqualTo(node.name());
            assertThat(node.dataDir()).startsWith(cluster.baseDir());
            assertThat(node.socketDir().resolve(".s.PGSQL." + node.port())).exists();
            assertThat(node.logFile()).exists();
            if (OsSupport.isRoot()) {
                assertThat(Files.getOwner(node.dataDir()).getName()).isEqualTo("postgres");
                assertThat(query(node, "postgres", "SELECT usename FROM pg_user WHERE usesysid = 10"))
                        .isEqualTo("postgres");
            }
        }
    }

    @Test
    void serverPidIsThePostmasterOfTheNode() throws Exception {
        for (LocalNode node : cluster.nodes()) {
            int pid = node.serverPid();
            String checkpointer = query(node, "postgres",
                    "SELECT pid::text FROM pg_stat_activity WHERE backend_type = 'checkpointer'");
            long parent = ProcessHandle.of(Long.parseLong(checkpointer)).orElseThrow()
                    .parent().orElseThrow().pid();
            assertThat(parent).as("parent of %s's checkpointer", node.name()).isEqualTo(pid);
            assertThat(node.isRunning()).isTrue();
            assertThat(OsSupport.descendants(pid)).contains(Long.parseLong(checkpointer));
        }
    }

    @Test
    void writesOnThePrimaryAreReadableOnBothReplicas() throws Exception {
        String table = "it_repl_" + System.nanoTime();
        try (Connection c = pg1.connect("app", "app", "app"); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE " + table + " (id int PRIMARY KEY, v text)");
            st.execute("INSERT INTO " + table + " SELECT g, 'row ' || g FROM generate_series(1, 100) g");
        }
        String lsn = pg1.currentWalLsn();
        for (LocalNode replica : List.of(pg2, pg3)) {
            replica.waitForReplay(lsn, TIMEOUT);
            try (Connection c = replica.connect("app", "app", "app"); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT count(*), max(v) FROM " + table)) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).as("rows on %s", replica.name()).isEqualTo(100);
                assertThat(rs.getString(2)).isEqualTo("row 99");
            }
            try (Connection c = replica.connect("app", "app", "app"); Statement st = c.createStatement()) {
                assertThatThrownBy(() -> st.execute("INSERT INTO " + table + " VALUES (1000, 'x')"))
                        .isInstanceOf(SQLException.class)
                        .extracting(e -> ((SQLException) e).getSQLState()).isEqualTo("25006");
            }
            assertThat(replica.replayLsn()).isNotBlank();
        }
        cluster.execute("app", "DROP TABLE " + table);
        cluster.waitForReplication(TIMEOUT);
        assertThat(query(pg2, "app", "SELECT to_regclass('" + table + "')::text")).isNull();
    }

    @Test
    void scramAndMd5UsersLogInOverTcp() throws Exception {
        for (LocalNode node : cluster.nodes()) {
            try (Connection c = node.connect("app", "app", "app")) {
                assertThat(scalar(c, "SELECT current_user")).isEqualTo("app");
                assertThat(scalar(c, "SELECT inet_server_addr()::text")).isEqualTo("127.0.0.1/32");
            }
            try (Connection c = node.connect("app", "app_md5", "app_md5")) {
                assertThat(scalar(c, "SELECT current_user")).isEqualTo("app_md5");
            }
            try (Connection c = node.connect("postgres", "postgres", "postgres")) {
                assertThat(scalar(c, "SELECT rolsuper::text FROM pg_roles WHERE rolname = current_user"))
                        .isEqualTo("true");
            }
            for (String user : List.of("app", "app_md5", "postgres")) {
                assertThatThrownBy(() -> node.connect("app", user, "wrong").close())
                        .isInstanceOf(SQLException.class)
                        .extracting(e -> ((SQLException) e).getSQLState()).isEqualTo("28P01");
            }
        }
        assertThat(query(pg1, "postgres", "SELECT left(rolpassword, 14) FROM pg_authid WHERE rolname = 'app'"))
                .isEqualTo("SCRAM-SHA-256$");
        assertThat(query(pg1, "postgres", "SELECT left(rolpassword, 3) FROM pg_authid WHERE rolname = 'app_md5'"))
                .isEqualTo("md5");
        assertThat(query(pg1, "postgres",
                "SELECT auth_method FROM pg_hba_file_rules WHERE user_name = '{app_md5}' AND type = 'host'"))
                .isEqualTo("md5");
        assertThat(query(pg1, "postgres",
                "SELECT auth_method FROM pg_hba_file_rules WHERE user_name = '{all}' AND database = '{all}' "
                        + "AND type = 'host'")).isEqualTo("scram-sha-256");
        assertThat(query(pg1, "postgres", "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'app'"))
                .isEqualTo("app");
        assertThat(query(pg1, "app", "SELECT has_schema_privilege('app', 'public', 'CREATE')::text"))
                .isEqualTo("true");
    }

    @Test
    void pausedReplayHidesNewWritesUntilResumed() throws Exception {
        String table = "it_pause_" + System.nanoTime();
        cluster.execute("app", "CREATE TABLE " + table + " (id int)");
        cluster.waitForReplication(TIMEOUT);
        try {
            pg2.pauseReplay();
            assertThat(pg2.isReplayPaused()).isTrue();
            assertThat(query(pg2, "postgres", "SELECT pg_get_wal_replay_pause_state()")).isEqualTo("paused");

            cluster.execute("app", "INSERT INTO " + table + " VALUES (1)");
            String lsn = pg1.currentWalLsn();
            pg3.waitForReplay(lsn, TIMEOUT);
            waitUntil(TIMEOUT, "pg2 received " + lsn, () -> "true".equals(query(pg2, "postgres",
                    "SELECT (pg_last_wal_receive_lsn() >= '" + lsn + "'::pg_lsn)::text")));

            assertThat(query(pg3, "app", "SELECT count(*)::text FROM " + table)).isEqualTo("1");
            assertThat(query(pg2, "app", "SELECT count(*)::text FROM " + table))
                    .as("row must not be visible on pg2 while replay is paused").isEqualTo("0");
            assertThatThrownBy(() -> pg2.waitForReplay(lsn, Duration.ofMillis(300)))
                    .isInstanceOf(LocalClusterException.class).hasMessageContaining("paused true");

            pg2.resumeReplay();
            pg2.waitForReplay(lsn, TIMEOUT);
            assertThat(pg2.isReplayPaused()).isFalse();
            assertThat(query(pg2, "app", "SELECT count(*)::text FROM " + table)).isEqualTo("1");
        } finally {
            if (pg2.isReplayPaused()) {
                pg2.resumeReplay();
            }
            cluster.execute("app", "DROP TABLE " + table);
        }
    }

    @Test
    void sigstoppedNodeAcceptsTcpButDoesNotAnswerUntilSigcont() throws Exception {
        int pid = pg3.serverPid();
        List<Long> children = OsSupport.descendants(pid);
        try {
            pg3.sigstop();
            assertThat(pg3.isSuspended()).isTrue();
            assertThat(processState(pid)).isEqualTo('T');
            for (Long child : children) {
                // SIGSTOP reaches a process running on another core at its next scheduling point;
                // a child that exits meanwhile (its /proc entry vanishes) is fine too.
                await("child " + child + " stopped").atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(10))
                        .ignoreExceptionsInstanceOf(IOException.class)
                        .until(() -> !OsSupport.isAlive(child) || processState(child) == 'T');
            }
            assertThat(OsSupport.isListening(pg3.port())).as("the kernel still accepts TCP connections").isTrue();

            Properties props = new Properties();
            props.setProperty("loginTimeout", "2");
            props.setProperty("connectTimeout", "2");
            props.setProperty("socketTimeout", "3");
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> pg3.connect("app", "app", "app", props).close())
                    .isInstanceOf(SQLException.class);
            long elapsedMs = (System.nanoTime() - t0) / 1_000_000;
            assertThat(elapsedMs).as("the attempt should hang until the login timeout").isGreaterThanOrEqualTo(1500);
            assertThat(cluster.replicas()).as("a suspended node is not counted").containsExactly(pg2);
        } finally {
            pg3.sigcont();
        }
        assertThat(pg3.isSuspended()).isFalse();
        assertThat(processState(pid)).isNotEqualTo('T');
        try (Connection c = pg3.connect("app", "app", "app")) {
            assertThat(scalar(c, "SELECT 1")).isEqualTo("1");
        }
        assertThat(pg3.serverPid()).isEqualTo(pid);
        cluster.execute("postgres", "SELECT 1");
        cluster.waitForReplication(TIMEOUT);
        assertThat(cluster.replicas()).containsExactly(pg2, pg3);
    }

    @Test
    void stoppedReplicaRefusesConnectionsAndCatchesUpAfterStart() throws Exception {
        String table = "it_stop_" + System.nanoTime();
        try {
            pg3.stop();
            assertThat(pg3.isRunning()).isFalse();
            assertThat(OsSupport.isListening(pg3.port())).isFalse();
            assertThatThrownBy(() -> pg3.connect("app", "app", "app").close())
                    .isInstanceOf(SQLException.class)
                    .extracting(e -> ((SQLException) e).getSQLState()).isEqualTo("08001");
            assertThatThrownBy(pg3::serverPid).isInstanceOf(IllegalStateException.class);
            assertThat(cluster.replicas()).containsExactly(pg2);
            assertThat(cluster.describe()).contains("pg3 127.0.0.1:" + pg3.port() + " stopped");

            cluster.execute("app", "CREATE TABLE " + table + " AS SELECT 42 AS answer");
            String lsn = pg1.currentWalLsn();
            pg2.waitForReplay(lsn, TIMEOUT);

            pg3.start();
            assertThat(pg3.isRunning()).isTrue();
            assertThat(pg3.isInRecovery()).isTrue();
            pg3.waitForReplay(lsn, TIMEOUT);
            assertThat(query(pg3, "app", "SELECT answer::text FROM " + table)).isEqualTo("42");
            waitUntil(TIMEOUT, "pg3 streaming again", () -> pg3.isStreamingFrom(pg1));
        } finally {
            if (!pg3.isRunning()) {
                pg3.start();
            }
            cluster.execute("app", "DROP TABLE IF EXISTS " + table);
        }
    }

    @Test
    void restartStartsANewPostmasterThatKeepsStreaming() throws Exception {
        int before = pg2.serverPid();
        pg2.restart();
        int after = pg2.serverPid();
        assertThat(after).isNotEqualTo(before);
        assertThat(OsSupport.isAlive(before)).isFalse();
        assertThat(pg2.isInRecovery()).isTrue();
        waitUntil(TIMEOUT, "pg2 streaming after restart", () -> pg2.isStreamingFrom(pg1));
        cluster.execute("postgres", "SELECT txid_current()");
        cluster.waitForReplication(TIMEOUT);
    }

    @Test
    void setConfIsSeenByNewSessionsAndCanBeReset() throws Exception {
        String original = query(pg2, "postgres", "SHOW work_mem");
        try {
            pg2.setConf("work_mem", "7MB");
            assertThat(query(pg2, "postgres", "SHOW work_mem")).isEqualTo("7MB");
            assertThat(query(pg3, "postgres", "SHOW work_mem")).isEqualTo(original);
        } finally {
            pg2.resetConf("work_mem");
        }
        assertThat(query(pg2, "postgres", "SHOW work_mem")).isEqualTo(original);
        assertThatThrownBy(() -> pg2.setConf("work_mem; DROP TABLE x", "1"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void serverLogIsCapturedInTheNodeDirectory() throws Exception {
        try (Connection c = pg1.connect("postgres", "postgres", "postgres"); Statement st = c.createStatement()) {
            st.execute("DO $$ BEGIN RAISE WARNING 'pgrelay-log-probe-%', 4711; END $$");
        }
        waitUntil(TIMEOUT, "warning in " + pg1.logFile(), () ->
                Files.readString(pg1.logFile(), StandardCharsets.UTF_8).contains("pgrelay-log-probe-4711"));
        assertThat(pg1.logFile().getParent()).isEqualTo(pg1.nodeDir());
        assertThat(pg1.logTailForMessage()).contains("pgrelay-log-probe-4711");
    }

    @Test
    void findBinDirLocatesTheServerBinaries() {
        Path bin = LocalCluster.findBinDir().orElseThrow();
        assertThat(bin.resolve("initdb")).isExecutable();
        assertThat(bin.resolve("postgres")).isExecutable();
        assertThat(cluster.binDir()).isEqualTo(bin);
        assertThat(cluster.serverVersionNum()).isGreaterThanOrEqualTo(120000);
    }

    // ------------------------------------------------------------------ helpers

    static Connection su(LocalNode node, String db) throws SQLException {
        return node.connect(db, "postgres", "postgres");
    }

    /** First column of the first row (null when no row), as the superuser. */
    static String query(LocalNode node, String db, String sql) throws SQLException {
        try (Connection c = su(node, db)) {
            return scalar(c, sql);
        }
    }

    static List<String> queryAll(LocalNode node, String db, String sql) throws SQLException {
        List<String> rows = new ArrayList<>();
        try (Connection c = su(node, db); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                rows.add(rs.getString(1));
            }
        }
        return rows;
    }

    static String scalar(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    static char processState(long pid) throws Exception {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        return stat.substring(stat.lastIndexOf(')') + 2).charAt(0);
    }

    /** Waits for {@code condition}; on time-out the failure also shows the cluster's state. */
    static void waitUntil(Duration timeout, String what, Callable<Boolean> condition) {
        try {
            await(what).atMost(timeout).pollInterval(Duration.ofMillis(20)).until(condition);
        } catch (ConditionTimeoutException e) {
            throw new AssertionError(e.getMessage() + "\n" + cluster.describe(), e);
        }
    }
}
