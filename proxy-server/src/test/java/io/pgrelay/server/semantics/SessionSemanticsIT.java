package io.pgrelay.server.semantics;

import io.pgrelay.protocol.message.frontend.Query;
import io.pgrelay.protocol.message.frontend.StartupMessage;
import io.pgrelay.server.testing.RawPgClient;
import io.pgrelay.server.testing.TestProxy;
import io.pgrelay.testkit.Processes;
import io.pgrelay.testkit.TestCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;

import java.io.ByteArrayOutputStream;
import java.net.Socket;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Session semantics through the splitting proxy (reads on replicas, causal consistency), each
 * as a real client sees it on one PostgreSQL server: the bugs PostgreSQL's regression suite
 * found, one test each. The simple protocol (psql's) and the extended one (pgjdbc's) both.
 */
class SessionSemanticsIT {
    private static TestProxy proxy;

    @BeforeAll
    static void start() throws SQLException {
        proxy = TestProxy.start("""
                routing: { consistency: causal }
                auth:
                  users:
                    - { name: app, password: app }
                    - { name: postgres, password: postgres, method: password }
                """);
        try (Connection c = superuser(false); Statement s = c.createStatement()) {
            for (String role : List.of("sem_u8", "sem_u9", "sem_u10", "sem_x")) {
                s.execute("DROP ROLE IF EXISTS " + role);
            }
            s.execute("CREATE ROLE sem_u8");
            s.execute("CREATE ROLE sem_u9");
            s.execute("CREATE ROLE sem_u10");
            s.execute("GRANT sem_u9 TO sem_u8");
            s.execute("DROP SEQUENCE IF EXISTS sem_seq");
            s.execute("CREATE SEQUENCE sem_seq");
        }
        TestCluster.get().waitForReplication(Duration.ofSeconds(30));
    }

    @AfterAll
    static void stop() {
        proxy.close();
    }

    private static Connection superuser(boolean simple) throws SQLException {
        Properties props = new Properties();
        if (simple) {
            props.setProperty("preferQueryMode", "simple");
        }
        return proxy.connect("app", "postgres", "postgres", props);
    }

    private static String text(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            assertThat(rs.next()).as(sql).isTrue();
            return rs.getString(1);
        }
    }

    private static Processes.Result psql(String script) {
        return psql(script, Map.of());
    }

    private static Processes.Result psql(String script, Map<String, String> env) {
        return psql(proxy, script, env);
    }

    private static Processes.Result psql(TestProxy target, String script, Map<String, String> env) {
        List<String> command = new ArrayList<>();
        command.add(Processes.pgProgram("psql"));
        command.add(target.libpqUri("postgres", "postgres", "app") + "?sslmode=disable");
        command.addAll(List.of("-X", "-q", "-v", "ON_ERROR_STOP=0"));
        return Processes.run(command, env, script, Duration.ofSeconds(60));
    }

    /** The privileges regression test: the backend on the primary never stays under another authorization. */
    @ParameterizedTest(name = "simple protocol: {0}")
    @ValueSource(booleans = {true, false})
    void sessionAuthorizationAndRoleAsOnOneServer(boolean simple) throws SQLException {
        try (Connection c = superuser(simple); Statement s = c.createStatement()) {
            s.execute("SET SESSION AUTHORIZATION sem_u8");
            s.execute("SET ROLE sem_u9");
            assertThat(text(s, "SELECT current_user")).isEqualTo("sem_u9");
            s.execute("BEGIN");
            s.execute("SET SESSION AUTHORIZATION sem_u10");
            s.execute("ROLLBACK");
            assertThat(text(s, "SELECT session_user")).isEqualTo("sem_u8");
            assertThat(text(s, "SELECT current_user")).isEqualTo("sem_u9");
            s.execute("SET SESSION AUTHORIZATION sem_u8");
            assertThat(text(s, "SELECT current_setting('role')")).as("a new authorization resets the role")
                    .isEqualTo("none");
            s.execute("SET ROLE sem_u9");
            s.execute("RESET SESSION AUTHORIZATION");
            assertThat(text(s, "SELECT current_user")).isEqualTo("postgres");
            s.execute("CREATE ROLE sem_x");
            s.execute("DROP ROLE sem_x");
        }
    }

    @Test
    void settingsFollowTransactionsAndSavepoints() throws SQLException {
        try (Connection c = superuser(true); Statement s = c.createStatement()) {
            s.execute("SET search_path = public");
            s.execute("BEGIN");
            s.execute("SET search_path = pg_catalog");
            s.execute("SAVEPOINT a");
            s.execute("SET search_path = information_schema");
            s.execute("ROLLBACK TO a");
            s.execute("COMMIT");
            assertThat(text(s, "SHOW search_path")).isEqualTo("pg_catalog");
            assertThat(text(s, "/* pgrelay:primary */ SHOW search_path")).isEqualTo("pg_catalog");
            s.execute("BEGIN");
            s.execute("SET LOCAL search_path = information_schema");
            s.execute("COMMIT");
            assertThat(text(s, "SHOW search_path")).isEqualTo("pg_catalog");
        }
    }

    /** The brin regression tests: a SET inside a DO block stays on the primary's backend. */
    @Test
    void aSetInsideADoBlockIsNotLostOnTheOtherServers() throws SQLException {
        try (Connection c = superuser(true); Statement s = c.createStatement()) {
            assertThat(text(s, "SHOW enable_bitmapscan")).isEqualTo("on");
            s.execute("DO $$ BEGIN SET enable_bitmapscan = 0; END $$");
            assertThat(text(s, "SHOW enable_bitmapscan")).isEqualTo("off");
            s.execute("RESET enable_bitmapscan");
            assertThat(text(s, "SHOW enable_bitmapscan")).isEqualTo("on");
            assertThat(text(s, "/* pgrelay:primary */ SHOW enable_bitmapscan")).isEqualTo("on");
        }
    }

    /** The guc regression test: a function that sets a setting. */
    @Test
    void aFunctionThatChangesSettings() throws SQLException {
        try (Connection c = superuser(true); Statement s = c.createStatement()) {
            s.execute("SET work_mem = '3MB'");
            s.execute("CREATE OR REPLACE FUNCTION sem_set_work_mem() RETURNS text LANGUAGE plpgsql AS "
                    + "$$ BEGIN SET work_mem = '2MB'; RETURN current_setting('work_mem'); END $$");
            assertThat(text(s, "SELECT sem_set_work_mem()")).isEqualTo("2MB");
            s.execute("SET work_mem = '3MB'");
            assertThat(text(s, "/* pgrelay:primary */ SHOW work_mem")).isEqualTo("3MB");
            assertThat(text(s, "SHOW work_mem")).isEqualTo("3MB");
        }
    }

    /** The prepare regression test. */
    @ParameterizedTest(name = "simple protocol: {0}")
    @ValueSource(booleans = {true, false})
    void preparedStatementsAsOnOneServer(boolean simple) throws SQLException {
        try (Connection c = superuser(simple); Statement s = c.createStatement()) {
            s.execute("PREPARE sem_q1 AS SELECT 1 AS v");
            assertThatThrownBy(() -> s.execute("PREPARE sem_q1 AS SELECT 2 AS v"))
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42P05"));
            assertThat(text(s, "EXECUTE sem_q1")).isEqualTo("1");
            s.execute("PREPARE sem_q5(int, text) AS SELECT $1 AS v, $2 AS w");
            s.execute("CREATE TEMP TABLE sem_r AS EXECUTE sem_q5(200, 'x')");
            assertThat(text(s, "SELECT v || w FROM sem_r")).isEqualTo("200x");
            s.execute("PREPARE sem_q2 AS SELECT relname FROM pg_class WHERE relname = 'sem'");
            assertThat(text(s, "SELECT string_agg(name, ',' ORDER BY name) FROM pg_prepared_statements"))
                    .isEqualTo("sem_q1,sem_q2,sem_q5");
            s.execute("DEALLOCATE sem_q2");
            assertThat(text(s, "SELECT string_agg(name, ',' ORDER BY name) FROM pg_prepared_statements"))
                    .isEqualTo("sem_q1,sem_q5");
        }
    }

    /** The sequence regression test. */
    @Test
    void discardSequencesForgetsCurrval() throws SQLException {
        try (Connection c = superuser(true); Statement s = c.createStatement()) {
            s.execute("SELECT nextval('sem_seq')");
            assertThat(text(s, "SELECT 1")).isEqualTo("1");
            s.execute("DISCARD SEQUENCES");
            assertThatThrownBy(() -> text(s, "SELECT currval('sem_seq')"))
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("55000"));
        }
    }

    /** The sysviews and stats regression tests: per-server views answer for the primary. */
    @Test
    void perServerViewsAnswerForThePrimary() throws SQLException {
        try (Connection c = superuser(true); Statement s = c.createStatement()) {
            assertThat(text(s, "SELECT count(*) = 0 FROM pg_stat_wal_receiver")).isEqualTo("t");
            assertThat(text(s, "SELECT pg_is_in_recovery()")).isEqualTo("f");
            assertThat(text(s, "SHOW transaction_read_only")).isEqualTo("off");
            assertThat(text(s, "SELECT count(*) > 0 FROM pg_stat_replication")).isEqualTo("t");
        }
    }

    /**
     * The date regression test (pg_regress starts with DateStyle "Postgres, MDY"): SET datestyle
     * merges with the value before it, so a backend that replays the session's state must get
     * the value the server reported, not the last SET's text.
     */
    @Test
    void aMergingSettingReplaysItsResult() {
        try (TestProxy pooled = TestProxy.start("""
                pool-mode: transaction
                pool: { max-size: 1 }
                auth:
                  users:
                    - { name: postgres, password: postgres, method: password }
                """)) {
            // Another session leaves its settings on the one shared connection per node, so the
            // next session's settings are replayed there after a reset, not set on a fresh one.
            assertThat(psql(pooled, "SET datestyle TO german;\nSELECT date '1999-01-08';", Map.of()).output())
                    .contains("08.01.1999");
            Processes.Result result = psql(pooled, String.join("\n",
                    "SET datestyle TO iso;",
                    "SET datestyle TO ymd;",
                    "SELECT 'on ' || current_setting('port') AS server, date '1999-01-08' AS d, current_setting('DateStyle') AS style;"),
                    Map.of("PGDATESTYLE", "Postgres, MDY"));
            assertThat(result.output()).doesNotContain("ERROR").contains("1999-01-08", "ISO, YMD");
            assertThat(result.output()).as("the read ran on a replica, which replayed the settings")
                    .doesNotContain("on " + TestCluster.get().primary().port());
        }
    }

    /** The psql regression test: \gdesc is Parse + Sync, then Describe + Sync. */
    @Test
    void psqlGdescDescribesWhatItParsed() {
        Processes.Result result = psql(String.join("\n",
                "SELECT 1;",
                "CREATE TABLE IF NOT EXISTS sem_gd (a int);",
                "SELECT 1 AS one, 'x'::text AS two \\gdesc",
                "INSERT INTO sem_gd VALUES (1) RETURNING a \\gdesc",
                "CREATE TABLE sem_gd2 (a int) \\gdesc",
                "PREPARE sem_gd_test AS SELECT 1 AS sem_first, 2 AS sem_second;",
                "EXECUTE sem_gd_test \\gdesc"));
        assertThat(result.output()).doesNotContain("does not exist").doesNotContain("ERROR");
        assertThat(result.output()).contains("one", "integer", "two", "text", "a", "sem_first", "sem_second");
        assertThat(result.output()).contains("The command has no result, or the result has no columns.");
    }

    /** What a client that sends no application_name sees: the server's default, empty. */
    @Test
    void startupParametersPassThroughAsSent() throws Exception {
        try (RawPgClient client = new RawPgClient(proxy.host(), proxy.port())) {
            Map<String, String> params = new LinkedHashMap<>();
            params.put("user", "postgres");
            params.put("database", "app");
            client.send(new StartupMessage(StartupMessage.PROTOCOL_3_0, params));
            client.passwordLogin("postgres");
            client.send(new Query("SHOW application_name"));
            assertThat(client.readUntil('D').firstText()).isEmpty();
        }
    }

    @Test
    void terminateBeforeTheStartupPacketJustCloses() throws Exception {
        try (Socket socket = new Socket(proxy.host(), proxy.port())) {
            socket.getOutputStream().write(new byte[] {'X', 0, 0, 0, 4});
            socket.getOutputStream().flush();
            socket.setSoTimeout(5000);
            ByteArrayOutputStream received = new ByteArrayOutputStream();
            byte[] buffer = new byte[256];
            for (int n; (n = socket.getInputStream().read(buffer)) > 0; ) {
                received.write(buffer, 0, n);
            }
            assertThat(received.toByteArray()).as("nothing, then end of stream").isEmpty();
        }
    }

    /** The process id a client is told is the one pg_backend_pid() answers and the signal functions accept. */
    @Test
    void backendPidCancelAndTerminateActOnTheSession() throws Exception {
        try (Connection target = superuser(false); Connection admin = superuser(true);
             Statement t = target.createStatement(); Statement a = admin.createStatement()) {
            int pid = ((PGConnection) target).getBackendPID();
            assertThat(text(t, "SELECT pg_backend_pid()")).isEqualTo(Integer.toString(pid));
            CompletableFuture<String> sleeping = CompletableFuture.supplyAsync(() -> {
                try {
                    t.execute("SELECT pg_sleep(30)");
                    return "completed";
                } catch (SQLException e) {
                    return e.getSQLState();
                }
            });
            Thread.sleep(300);
            assertThat(text(a, "SELECT pg_cancel_backend(" + pid + ")")).isEqualTo("t");
            assertThat(sleeping.get(10, TimeUnit.SECONDS)).isEqualTo("57014");
            assertThat(text(a, "SELECT pg_terminate_backend(" + pid + ")")).isEqualTo("t");
            Thread.sleep(300);
            assertThatThrownBy(() -> text(t, "SELECT 1")).isInstanceOf(SQLException.class);
        }
        try (Connection app = proxy.connect(); Connection other = superuser(true); Statement s = app.createStatement()) {
            int pid = ((PGConnection) other).getBackendPID();
            assertThatThrownBy(() -> text(s, "SELECT pg_terminate_backend(" + pid + ")"))
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501"));
        }
    }
}
