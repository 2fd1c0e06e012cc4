package io.pgrelay.server.failover;

import io.pgrelay.server.testing.AdminClient;
import io.pgrelay.server.testing.TestProxy;
import io.pgrelay.testkit.LocalCluster;
import io.pgrelay.testkit.LocalNode;
import io.pgrelay.testkit.TestCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Sync mode keeps every acknowledged write through a {@code kill -9} of the primary: writers
 * insert through the proxy and remember each acknowledged id; after the automatic failover
 * every one of them is on the new primary, and the mode is in force there (without the dead
 * node). Uses a cluster of its own.
 */
class SyncReplicationIT {
    private static LocalCluster cluster;
    private static TestProxy proxy;
    private static AdminClient admin;

    @BeforeAll
    static void start() {
        cluster = TestCluster.startDedicated();
        proxy = TestProxy.start(cluster, "monitor: { user: postgres, password: postgres, interval: 500ms }\n"
                + "failover: { automatic: true }\n");
        admin = new AdminClient(proxy);
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

    @Test
    void everyAcknowledgedInsertSurvivesAFailover() throws Exception {
        assertThat(admin.primary()).isEqualTo("pg1");
        AdminClient.Reply mode = admin.call("PUT", "/api/v1/replication-mode", "{\"mode\":\"sync\"}");
        assertThat(mode.status()).as(mode.body().toPrettyString()).isEqualTo(200);
        try (Connection c = proxy.connect(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE acked (id bigint PRIMARY KEY, writer int)");
        }

        Set<Long> acknowledged = ConcurrentHashMap.newKeySet();
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicInteger errors = new AtomicInteger();
        AtomicInteger afterFailover = new AtomicInteger();
        AtomicBoolean failedOver = new AtomicBoolean();
        List<Thread> writers = new java.util.ArrayList<>();
        for (int w = 0; w < 4; w++) {
            int writer = w;
            Thread thread = new Thread(() -> write(writer, acknowledged, running, errors, failedOver, afterFailover),
                    "writer-" + w);
            thread.start();
            writers.add(thread);
        }
        Thread.sleep(3000);
        int beforeKill = acknowledged.size();
        assertThat(beforeKill).as("inserts acknowledged before the kill").isGreaterThan(50);

        cluster.node("pg1").kill9();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        String newPrimary = null;
        while (System.nanoTime() < deadline) {
            newPrimary = admin.primary();
            if (newPrimary != null && !newPrimary.equals("pg1")) {
                break;
            }
            Thread.sleep(100);
        }
        assertThat(newPrimary).as("primary after failover").isIn("pg2", "pg3");
        failedOver.set(true);
        while (afterFailover.get() < 50 && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        running.set(false);
        for (Thread thread : writers) {
            thread.join(10_000);
        }
        assertThat(afterFailover.get()).as("inserts acknowledged after the failover").isGreaterThanOrEqualTo(50);

        LocalNode promoted = cluster.node(newPrimary);
        Set<Long> present = new HashSet<>();
        try (Connection c = promoted.connect("app", "postgres", "postgres"); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT id FROM acked")) {
            while (rs.next()) {
                present.add(rs.getLong(1));
            }
            try (ResultSet names = st.executeQuery("SHOW synchronous_standby_names")) {
                names.next();
                String other = newPrimary.equals("pg2") ? "pg3" : "pg2";
                assertThat(names.getString(1)).isEqualTo("FIRST 1 (\"" + other + "\")");
            }
        }
        Set<Long> lost = new HashSet<>(acknowledged);
        lost.removeAll(present);
        System.out.printf("sync mode failover to %s: %d inserts acknowledged (%d before the kill), %d errors,"
                + " %d lost%n", newPrimary, acknowledged.size(), beforeKill, errors.get(), lost.size());
        assertThat(lost).as("acknowledged inserts missing on the new primary").isEmpty();
        assertThat(admin.cluster().get("replicationMode").get("mode").asText()).isEqualTo("sync");
    }

    /** Inserts ids writer, writer + 4, …; an id counts once its commit is acknowledged. */
    private static void write(int writer, Set<Long> acknowledged, AtomicBoolean running, AtomicInteger errors,
                              AtomicBoolean failedOver, AtomicInteger afterFailover) {
        Properties props = new Properties();
        props.setProperty("connectTimeout", "2");
        props.setProperty("socketTimeout", "10");
        long id = writer;
        while (running.get()) {
            try (Connection c = proxy.connect("app", "app", "app", props);
                 PreparedStatement ps = c.prepareStatement("INSERT INTO acked VALUES (?, ?)")) {
                while (running.get()) {
                    ps.setLong(1, id);
                    ps.setInt(2, writer);
                    ps.executeUpdate();
                    acknowledged.add(id);
                    if (failedOver.get()) {
                        afterFailover.incrementAndGet();
                    }
                    id += 4;
                }
            } catch (SQLException e) {
                errors.incrementAndGet();
                id += 4; // the outcome of this id is unknown: never reuse it
                try {
                    Thread.sleep(50);
                } catch (InterruptedException interrupted) {
                    return;
                }
            }
        }
    }
}
