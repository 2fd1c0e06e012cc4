package io.pgrelay.server.failover;

import io.pgrelay.server.testing.AdminClient;
import io.pgrelay.server.testing.TestProxy;
import io.pgrelay.testkit.LocalCluster;
import io.pgrelay.testkit.LocalNode;
import io.pgrelay.testkit.Pgbench;
import io.pgrelay.testkit.Processes;
import io.pgrelay.testkit.TestCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Automatic failover with the default detection settings (monitor interval 1 s, 3 failed
 * probes): {@code kill -9} of the primary while pgbench writes through the proxy. Writes must
 * succeed again through the same proxy within 10 s (target: 5 s), the old primary must stay
 * fenced when it comes back claiming to be primary, the other replica must stream from the new
 * primary, and the hooks must have run. Uses a cluster of its own.
 */
class FailoverIT {
    private static LocalCluster cluster;
    private static TestProxy proxy;
    private static AdminClient admin;
    private static Path hookLog;

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.startDedicated();
        hookLog = Files.createTempFile("pgrelay-hooks", ".log");
        proxy = TestProxy.start(cluster, "monitor: { user: postgres, password: postgres }\n"
                + "failover: { hooks: [\"echo {event} {node} {old_primary} {new_primary} {new_port} >> "
                + hookLog + "\"] }\n");
        admin = new AdminClient(proxy);
        Processes.Result init = Pgbench.run(proxy.host(), proxy.port(), "-i", "-s", "1", "-q");
        assertThat(init.exitCode()).as(init.output()).isZero();
        // pgbench's first reads (the scale, the tables) may go to a replica.
        cluster.waitForReplication(Duration.ofSeconds(30));
    }

    @AfterAll
    static void stop() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        if (cluster != null) {
            cluster.close();
        }
        if (hookLog != null) {
            Files.deleteIfExists(hookLog);
        }
    }

    @Test
    void kill9OfThePrimaryDuringPgbench() throws Exception {
        LocalNode pg1 = cluster.node("pg1");
        assertThat(admin.primary()).isEqualTo("pg1");
        CompletableFuture<Processes.Result> bench = CompletableFuture.supplyAsync(
                () -> Pgbench.run(proxy.host(), proxy.port(), "-c", "8", "-j", "2", "-T", "20"));
        Thread.sleep(3000);
        assertThat(bench).as("pgbench runs").isNotDone();

        // A session that wrote before and stays idle; one caught in a transaction; one reading throughout.
        Connection idle = proxy.connect();
        write(idle);
        Connection inTransaction = proxy.connect();
        inTransaction.setAutoCommit(false);
        write(inTransaction);
        AtomicBoolean reading = new AtomicBoolean(true);
        AtomicInteger reads = new AtomicInteger();
        List<String> readErrors = Collections.synchronizedList(new ArrayList<>());
        Thread reader = new Thread(() -> {
            try (Connection c = proxy.connect(); Statement st = c.createStatement()) {
                while (reading.get()) {
                    try (ResultSet rs = st.executeQuery("SELECT count(*) FROM pgbench_branches")) {
                        rs.next();
                        reads.incrementAndGet();
                    } catch (SQLException e) {
                        readErrors.add(e.getSQLState() + " " + e.getMessage());
                    }
                }
            } catch (SQLException e) {
                readErrors.add("connect: " + e.getMessage());
            }
        }, "failover-reader");
        reader.start();
        Thread.sleep(500);
        int readsBefore = reads.get();

        long killed = System.nanoTime();
        pg1.kill9();
        long writable = awaitWrite(killed, Duration.ofSeconds(10));
        double seconds = (writable - killed) / 1e9;
        System.out.printf("failover: writes through the proxy succeed again %.2f s after kill -9 of the primary%n",
                seconds);
        assertThat(seconds).as("writes available again after kill -9 (s)").isLessThanOrEqualTo(10.0);

        reading.set(false);
        reader.join(10_000);
        System.out.printf("reads during the failover: %d (%d before the kill), errors %s%n", reads.get(),
                readsBefore, readErrors);
        assertThat(readErrors).as("reads keep flowing from the replicas during the failover").isEmpty();
        assertThat(reads.get()).isGreaterThan(readsBefore);

        // The idle session writes again on the same connection, now on the new primary.
        write(idle);
        idle.close();
        // The transaction caught on the dead primary: a clean error, then 25P02 until it ends.
        assertThatThrownBy(() -> write(inTransaction)).isInstanceOfSatisfying(SQLException.class,
                e -> assertThat(e.getSQLState()).isEqualTo("08006"));
        assertThatThrownBy(() -> write(inTransaction)).isInstanceOfSatisfying(SQLException.class,
                e -> assertThat(e.getSQLState()).isEqualTo("25P02"));
        inTransaction.rollback();
        write(inTransaction);
        inTransaction.commit();
        inTransaction.close();

        String newPrimary = admin.primary();
        assertThat(newPrimary).isIn("pg2", "pg3");
        assertThat(admin.state("pg1")).isEqualTo("fenced");
        LocalNode other = cluster.node(newPrimary.equals("pg2") ? "pg3" : "pg2");
        waitUntil(Duration.ofSeconds(20), () -> other.isStreamingFrom(cluster.node(newPrimary)),
                other.name() + " streams from " + newPrimary);

        Processes.Result result = bench.get();
        System.out.printf("pgbench during failover: exit %d, %d transactions, %d failed%n%s%n", result.exitCode(),
                Pgbench.processed(result), Pgbench.failed(result), result.stderr().lines().limit(5).toList());

        // the old primary comes back claiming to be primary (timeline 1): it stays fenced
        pg1.start();
        assertThat(pg1.isInRecovery()).isFalse();
        Thread.sleep(3000); // three monitor probes
        assertThat(admin.state("pg1")).isEqualTo("fenced");
        assertThat(admin.primary()).isEqualTo(newPrimary);
        try (Connection c = proxy.connect(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.execute("INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 1, 1, 0, now())");
            try (ResultSet rs = st.executeQuery("SELECT current_setting('port')::int")) {
                rs.next();
                assertThat(rs.getInt(1)).as("writes go to the new primary").isEqualTo(cluster.node(newPrimary).port());
            }
            c.commit();
        }

        String hooks = Files.readString(hookLog);
        assertThat(hooks).as("hook output").contains("node-down pg1").contains("failover " + newPrimary + " pg1 "
                + newPrimary + " " + cluster.node(newPrimary).port());
    }

    private static void write(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 1, 1, 0, now())");
        }
    }

    /** Opens a new connection through the proxy and writes, until it works; returns when it did. */
    private static long awaitWrite(long since, Duration timeout) throws Exception {
        long deadline = since + timeout.toNanos() + Duration.ofSeconds(20).toNanos();
        Properties props = new Properties();
        props.setProperty("connectTimeout", "2");
        props.setProperty("socketTimeout", "5");
        String last = "";
        while (System.nanoTime() < deadline) {
            try (Connection c = proxy.connect("app", "app", "app", props); Statement st = c.createStatement()) {
                st.execute("INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 1, 1, 0, now())");
                return System.nanoTime();
            } catch (SQLException e) {
                last = e.getMessage();
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no write succeeded through the proxy within " + timeout.plusSeconds(20)
                + "; last error: " + last + "; cluster: " + admin.cluster());
    }

    interface Condition {
        boolean test() throws Exception;
    }

    static void waitUntil(Duration timeout, Condition condition, String what) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.test()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting until " + what);
            }
            Thread.sleep(50);
        }
    }
}
