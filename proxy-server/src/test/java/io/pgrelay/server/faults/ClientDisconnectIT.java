package io.pgrelay.server.faults;

import io.pgrelay.server.testing.TestProxy;
import io.pgrelay.testkit.LocalNode;
import io.pgrelay.testkit.TestCluster;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A client that vanishes (its socket closed, no Terminate) in the middle of a transaction or of
 * COPY FROM STDIN leaves no lock, no open transaction and no running COPY on any server, in
 * session and in transaction pooling.
 */
class ClientDisconnectIT {
    @BeforeAll
    static void tables() throws SQLException {
        try (Connection c = primary(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS disconnect_locks (id int)");
            st.execute("CREATE TABLE IF NOT EXISTS disconnect_copy (id int, note text)");
            st.execute("GRANT ALL ON disconnect_locks, disconnect_copy TO app");
        }
    }

    @ParameterizedTest(name = "{0} pooling")
    @ValueSource(strings = {"session", "transaction"})
    void aVanishedClientLeavesNoLockAndNoOpenTransaction(String poolMode) throws Exception {
        try (TestProxy proxy = TestProxy.start("pool-mode: " + poolMode + "\n")) {
            Connection client = proxy.connect();
            client.setAutoCommit(false);
            try (Statement st = client.createStatement()) {
                st.execute("LOCK TABLE disconnect_locks IN ACCESS EXCLUSIVE MODE");
                st.execute("INSERT INTO disconnect_locks VALUES (1)");
            }
            assertThat(openTransactions()).as("the client's transaction is open").isNotEmpty();
            client.abort(Runnable::run);

            await().atMost(Duration.ofSeconds(15)).untilAsserted(() ->
                    assertThat(openTransactions()).as("transactions left open by app").isEmpty());
            try (Connection c = primary(); Statement st = c.createStatement()) {
                c.setAutoCommit(false);
                st.execute("LOCK TABLE disconnect_locks IN ACCESS EXCLUSIVE MODE NOWAIT");
                try (ResultSet rs = st.executeQuery("SELECT count(*) FROM disconnect_locks")) {
                    rs.next();
                    assertThat(rs.getInt(1)).as("the vanished transaction's insert is rolled back").isZero();
                }
                c.rollback();
            }
        }
    }

    @ParameterizedTest(name = "{0} pooling")
    @ValueSource(strings = {"session", "transaction"})
    void aClientVanishingDuringCopyLeavesNoRunningCopy(String poolMode) throws Exception {
        try (TestProxy proxy = TestProxy.start("pool-mode: " + poolMode + "\n")) {
            Connection client = proxy.connect();
            CopyIn copy = client.unwrap(PGConnection.class).getCopyAPI()
                    .copyIn("COPY disconnect_copy FROM STDIN");
            byte[] rows = "1\tone\n2\ttwo\n".getBytes(StandardCharsets.UTF_8);
            copy.writeToCopy(rows, 0, rows.length);
            copy.flushCopy();
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertThat(runningCopies()).as("the COPY runs on the primary").isNotEmpty());
            client.abort(Runnable::run);

            await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
                assertThat(runningCopies()).as("COPY statements still running").isEmpty();
                assertThat(openTransactions()).as("transactions left open by app").isEmpty();
            });
            try (Connection c = primary(); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT count(*) FROM disconnect_copy")) {
                rs.next();
                assertThat(rs.getInt(1)).as("rows of the abandoned COPY").isZero();
            }
        }
    }

    private static Connection primary() throws SQLException {
        LocalNode primary = TestCluster.get().primary();
        return primary.connect("app", "postgres", "postgres");
    }

    /** Sessions of user app on the primary inside a transaction (other than the caller's). */
    private static List<String> openTransactions() throws SQLException {
        return activity("state LIKE 'idle in transaction%' OR (state = 'active' AND xact_start IS NOT NULL)");
    }

    private static List<String> runningCopies() throws SQLException {
        return activity("query LIKE 'COPY disconnect_copy%' AND state = 'active'");
    }

    private static List<String> activity(String condition) throws SQLException {
        List<String> rows = new ArrayList<>();
        try (Connection c = primary(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT pid, state, query FROM pg_stat_activity WHERE usename = 'app'"
                     + " AND pid <> pg_backend_pid() AND (" + condition + ")")) {
            while (rs.next()) {
                rows.add(rs.getInt(1) + " " + rs.getString(2) + ": " + rs.getString(3));
            }
        }
        return rows;
    }
}
