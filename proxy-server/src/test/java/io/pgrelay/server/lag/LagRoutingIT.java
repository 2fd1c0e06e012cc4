package io.pgrelay.server.lag;

import io.pgrelay.server.testing.TestProxy;
import io.pgrelay.testkit.LocalCluster;
import io.pgrelay.testkit.LocalNode;
import io.pgrelay.testkit.TestCluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Routing on the monitor's figures: lagging and failed replicas take no reads, recovered
 * ones are taken back, and writes follow a primary promoted outside pgrelay.
 * The proxy's monitor runs every 250 ms (see TestProxy).
 */
class LagRoutingIT {
    private static final long INTERVAL_MILLIS = 250;
    private static TestProxy proxy;
    private static LocalCluster cluster;

    @BeforeAll
    static void createTables() throws SQLException {
        cluster = TestCluster.get();
        try (TestProxy setup = TestProxy.start(""); Connection c = setup.connect(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS lag_fill (id int, pad text)");
            s.execute("CREATE TABLE IF NOT EXISTS lag_marks (id serial PRIMARY KEY, note text)");
        }
        cluster.waitForReplication(Duration.ofSeconds(30));
    }

    /** A proxy per test: one that watched a promotion and the reset after it may have fenced a node. */
    @BeforeEach
    void start() throws Exception {
        proxy = TestProxy.start("routing: { max-replica-lag-bytes: 16MB }\n");
        proxy.relay().proxy().catalogs().load("app").get(10, java.util.concurrent.TimeUnit.SECONDS);
    }

    @AfterEach
    void restore() {
        try {
            proxy.close();
        } finally {
            cluster.resetToInitialTopology();
        }
    }

    private static int port(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT current_setting('port')::int")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static long lagMillisOf(LocalNode node) {
        return proxy.relay().proxy().view().topology().nodes().stream()
                .filter(status -> status.config().port() == node.port())
                .findFirst().orElseThrow().lagMillis();
    }

    private static Set<Integer> readPorts(int reads) throws SQLException {
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < reads; i++) {
            try (Connection c = proxy.connect()) {
                seen.add(port(c));
            }
        }
        return seen;
    }

    @Test
    void replicaWithPausedReplayLeavesRotationAndComesBack() throws Exception {
        LocalNode paused = cluster.replicas().get(0);
        LocalNode other = cluster.replicas().get(1);
        paused.pauseReplay();
        try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
            // About 50 MB of WAL.
            s.execute("INSERT INTO lag_fill SELECT g, repeat(md5(g::text), 25) FROM generate_series(1, 50000) g");
            s.execute("TRUNCATE lag_fill");
        }
        Thread.sleep(2 * INTERVAL_MILLIS + 100);
        Set<Integer> seen = readPorts(40);
        assertThat(seen).as("reads after two monitor intervals").doesNotContain(paused.port())
                .contains(other.port());
        // The probe's replay delay: the age of the last replayed commit while WAL waits unreplayed.
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                assertThat(lagMillisOf(paused)).as("replay delay of the paused replica").isGreaterThan(500));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(lagMillisOf(other)).as("replay delay of a replica that replays").isZero());
        assertThat(lagMillisOf(paused)).as("replay delay in milliseconds, not in another unit")
                .isLessThan(Duration.ofHours(1).toMillis());

        paused.resumeReplay();
        long deadline = System.currentTimeMillis() + 15_000;
        boolean back = false;
        while (!back && System.currentTimeMillis() < deadline) {
            back = readPorts(10).contains(paused.port());
        }
        assertThat(back).as("the replica takes reads again once it caught up").isTrue();
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(lagMillisOf(paused)).as("replay delay once all received WAL is replayed").isZero());
    }

    @Test
    void stoppingAReplicaCausesNoReadErrors() throws Exception {
        LocalNode victim = cluster.replicas().get(1);
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicInteger reads = new AtomicInteger();
        List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<?>> workers = new ArrayList<>();
        for (int w = 0; w < 4; w++) {
            boolean reconnect = w % 2 == 0;
            workers.add(pool.submit(() -> {
                Connection c = null;
                try {
                    while (running.get()) {
                        if (c == null || reconnect) {
                            if (c != null) {
                                c.close();
                            }
                            c = proxy.connect();
                        }
                        port(c);
                        reads.incrementAndGet();
                    }
                } catch (Throwable e) {
                    errors.add(e);
                } finally {
                    if (c != null) {
                        try {
                            c.close();
                        } catch (SQLException ignored) {
                            // closing after the test
                        }
                    }
                }
                return null;
            }));
        }
        Thread.sleep(500);
        victim.kill9();
        Thread.sleep(3000);
        running.set(false);
        for (Future<?> worker : workers) {
            worker.get();
        }
        pool.shutdown();
        assertThat(errors).as("read errors while a replica died").isEmpty();
        assertThat(reads.get()).isGreaterThan(100);
        assertThat(readPorts(10)).doesNotContain(victim.port());
    }

    @Test
    void writesFollowAPrimaryPromotedOutsidePgrelay() throws Exception {
        LocalNode oldPrimary = cluster.primary();
        LocalNode promoted = cluster.replicas().get(0);
        try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
            s.execute("INSERT INTO lag_marks (note) VALUES ('before')");
        }
        cluster.waitForReplication(Duration.ofSeconds(30));
        try (Connection session = proxy.connect(); Statement s = session.createStatement()) {
            oldPrimary.stop();
            promoted.promote();
            long start = System.nanoTime();
            long deadline = start + 10_000_000_000L;
            int writtenOn = -1;
            while (writtenOn < 0 && System.nanoTime() < deadline) {
                try (ResultSet rs = s.executeQuery(
                        "INSERT INTO lag_marks (note) VALUES ('after') RETURNING current_setting('port')::int")) {
                    rs.next();
                    writtenOn = rs.getInt(1);
                } catch (SQLException e) {
                    Thread.sleep(50);
                }
            }
            long millis = (System.nanoTime() - start) / 1_000_000;
            System.out.printf("writes through the same session back on the promoted node after %d ms%n", millis);
            assertThat(writtenOn).as("the same client session writes to the promoted node").isEqualTo(promoted.port());
            assertThat(millis).as("within two monitor intervals of the promotion, plus detection")
                    .isLessThan(5_000);
        }
    }
}
