package io.pgrelay.server.lag;

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
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Read-your-writes by WAL position, with every replica applying WAL 300 ms late
 * ({@code recovery_min_apply_delay}): causal sessions always see their own writes while
 * replicas keep serving reads; eventual sessions demonstrably do not.
 */
class CausalConsistencyIT {
    private static final int ITERATIONS = 1000;
    private static TestProxy proxy;
    private static LocalCluster cluster;
    private static int primaryPort;
    private static Set<Integer> replicaPorts;

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.get();
        primaryPort = cluster.primary().port();
        replicaPorts = cluster.replicas().stream().map(LocalNode::port).collect(Collectors.toSet());
        proxy = TestProxy.start("routing: { consistency: causal }\n");
        try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS causal_rows (id bigint PRIMARY KEY, writer text)");
            s.execute("TRUNCATE causal_rows");
        }
        cluster.waitForReplication(Duration.ofSeconds(30));
        proxy.relay().proxy().catalogs().load("app").get(10, java.util.concurrent.TimeUnit.SECONDS);
        for (LocalNode replica : cluster.replicas()) {
            replica.setConf("recovery_min_apply_delay", "300ms");
        }
    }

    @AfterAll
    static void stop() {
        try {
            cluster.resetToInitialTopology();
        } finally {
            proxy.close();
        }
    }

    /** Result of a write-then-read loop. */
    record LoopResult(int sawOwnWrite, int replicaReads, int reads) {
    }

    private static LoopResult writeThenRead(Connection c, long firstId) throws SQLException {
        int saw = 0;
        int replicaReads = 0;
        try (PreparedStatement insert = c.prepareStatement("INSERT INTO causal_rows VALUES (?, 'loop')");
             PreparedStatement read = c.prepareStatement(
                     "SELECT current_setting('port')::int, count(*) FROM causal_rows WHERE id = ?")) {
            for (int i = 0; i < ITERATIONS; i++) {
                long id = firstId + i;
                insert.setLong(1, id);
                insert.executeUpdate();
                read.setLong(1, id);
                try (ResultSet rs = read.executeQuery()) {
                    rs.next();
                    if (replicaPorts.contains(rs.getInt(1))) {
                        replicaReads++;
                    }
                    if (rs.getLong(2) == 1) {
                        saw++;
                    }
                }
            }
        }
        return new LoopResult(saw, replicaReads, ITERATIONS);
    }

    @Test
    void causalSessionsReadTheirWritesWhileReplicasServeReads() throws Exception {
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong otherReads = new AtomicLong();
        AtomicLong otherReplicaReads = new AtomicLong();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        List<Future<?>> readers = new ArrayList<>();
        for (int r = 0; r < 2; r++) {
            // Sessions of the same application that only read: causal mode costs them nothing.
            readers.add(pool.submit(() -> {
                try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
                    while (running.get()) {
                        try (ResultSet rs = s.executeQuery("SELECT current_setting('port')::int, count(*) FROM causal_rows")) {
                            rs.next();
                            otherReads.incrementAndGet();
                            if (replicaPorts.contains(rs.getInt(1))) {
                                otherReplicaReads.incrementAndGet();
                            }
                        }
                    }
                }
                return null;
            }));
        }
        LoopResult loop;
        try (Connection c = proxy.connect()) {
            loop = writeThenRead(c, 1_000_000);
        } finally {
            running.set(false);
            for (Future<?> reader : readers) {
                reader.get();
            }
            pool.shutdown();
        }
        long allReads = loop.reads() + otherReads.get();
        long replicaReads = loop.replicaReads() + otherReplicaReads.get();
        System.out.printf("causal: %d/%d read-your-writes; replica reads %d of %d (%.1f %%), loop %d/%d%n",
                loop.sawOwnWrite(), ITERATIONS, replicaReads, allReads, 100.0 * replicaReads / allReads,
                loop.replicaReads(), loop.reads());
        assertThat(loop.sawOwnWrite()).as("read-your-writes").isEqualTo(ITERATIONS);
        // How many reads the readers manage next to the loop depends on scheduling; where they run does not.
        assertThat(otherReads.get()).as("reads of the sessions that only read").isPositive();
        assertThat(otherReplicaReads.get()).as("every read of a session that never wrote is on a replica")
                .isEqualTo(otherReads.get());
    }

    @Test
    void eventualSessionsObserveStaleReads() throws Exception {
        LoopResult loop;
        try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
            s.execute("SET pgrelay.consistency = eventual");
            loop = writeThenRead(c, 2_000_000);
        }
        System.out.printf("eventual: %d/%d read-your-writes; %d replica reads%n", loop.sawOwnWrite(), ITERATIONS,
                loop.replicaReads());
        assertThat(loop.sawOwnWrite()).as("stale reads happen without causal consistency").isLessThan(ITERATIONS);
    }

    @Test
    void anotherSessionWaitsForAPublishedPosition() throws Exception {
        String lsn;
        try (Connection writer = proxy.connect(); Statement s = writer.createStatement()) {
            s.execute("INSERT INTO causal_rows VALUES (3000000, 'published')");
            try (ResultSet rs = s.executeQuery("SHOW pgrelay.last_lsn")) {
                rs.next();
                lsn = rs.getString(1);
            }
        }
        assertThat(lsn).matches("[0-9A-F]+/[0-9A-F]+").isNotEqualTo("0/0");
        try (Connection reader = proxy.connect(); Statement s = reader.createStatement()) {
            s.execute("SET pgrelay.consistency = eventual");
            s.execute("SET pgrelay.min_lsn = '" + lsn + "'");
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM causal_rows WHERE id = 3000000")) {
                rs.next();
                assertThat(rs.getLong(1)).as("the published write is visible").isEqualTo(1);
            }
            try (ResultSet rs = s.executeQuery("SHOW pgrelay.min_lsn")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo(lsn);
            }
        }
    }

    @Test
    void readsReturnToReplicasOnceTheyCaughtUp() throws Exception {
        try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
            s.execute("INSERT INTO causal_rows VALUES (4000000, 'then wait')");
            int port;
            try (ResultSet rs = s.executeQuery("SELECT current_setting('port')::int")) {
                rs.next();
                port = rs.getInt(1);
            }
            assertThat(port).as("right after the write only the primary has it").isEqualTo(primaryPort);
            Thread.sleep(800);
            try (ResultSet rs = s.executeQuery("SELECT current_setting('port')::int, count(*) FROM causal_rows WHERE id = 4000000")) {
                rs.next();
                assertThat(rs.getInt(1)).as("once replayed, a replica serves the session again").isIn(replicaPorts);
                assertThat(rs.getLong(2)).isEqualTo(1);
            }
        }
    }
}
