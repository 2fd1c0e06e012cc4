package io.pgrelay.server.lag;

import io.pgrelay.testkit.FreePorts;
import io.pgrelay.testkit.LocalCluster;
import io.pgrelay.testkit.LocalNode;
import io.pgrelay.testkit.ProxyProcess;
import io.pgrelay.testkit.TestCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Global consistency across pgrelay instances: two proxies A and B, each its own process, in
 * front of the same cluster, every replica applying WAL {@value #APPLY_DELAY_MS} ms late. A
 * client writes through A and then reads through B: with {@code global}, B's read sees the
 * write every time, while replicas still serve reads; with {@code eventual} or {@code causal}
 * (B's session never wrote, so it knows nothing to wait for) it often does not. Prints each
 * mode's read latency and replica share, the cost of the guarantee (docs/benchmarks.md).
 */
class GlobalConsistencyIT {
    private static final int ITERATIONS = 1000;
    private static final int APPLY_DELAY_MS = 20;
    private static final Path JAR = Path.of("target", "pgrelay.jar");

    private static LocalCluster cluster;
    private static Set<Integer> replicaPorts;
    private static ProxyProcess proxyA;
    private static ProxyProcess proxyB;
    private static ProxyProcess proxyC;
    private static int portA;
    private static int portB;
    private static int portC;
    private static int adminB;
    private static int adminC;

    @BeforeAll
    static void start() throws Exception {
        assertThat(JAR).as("the runnable jar (built by mvn package)").exists();
        cluster = TestCluster.get();
        replicaPorts = cluster.replicas().stream().map(LocalNode::port).collect(Collectors.toSet());
        assertThat(replicaPorts).as("replicas in the test cluster").isNotEmpty();
        portA = FreePorts.next();
        portB = FreePorts.next();
        portC = FreePorts.next();
        int adminA = FreePorts.next();
        adminB = FreePorts.next();
        adminC = FreePorts.next();
        // A is a plain eventual proxy; B serves global reads by configuration (sessions may SET another mode);
        // C waits less for a replica than the replicas are late, so its global reads end on the primary.
        proxyA = start("pgrelay-a", portA, adminA, "");
        proxyB = start("pgrelay-b", portB, adminB, "routing: { consistency: global }\n");
        proxyC = start("pgrelay-c", portC, adminC, "routing: { consistency: global, global-wait: 5ms }\n");
        proxyA.awaitReady(readyz(adminA), Duration.ofSeconds(60));
        proxyB.awaitReady(readyz(adminB), Duration.ofSeconds(60));
        proxyC.awaitReady(readyz(adminC), Duration.ofSeconds(60));
        try (Connection c = connect(portA); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS global_rows (id bigint PRIMARY KEY)");
            s.execute("TRUNCATE global_rows");
        }
        cluster.waitForReplication(Duration.ofSeconds(30));
        awaitReplicaReads(portB);
        awaitReplicaReads(portC);
    }

    /** A proxy's catalog learns of the new table in the background; until then a read of it goes to the primary. */
    private static void awaitReplicaReads(int port) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        try (Connection b = connect(port); Statement s = b.createStatement()) {
            s.execute("SET pgrelay.consistency = eventual");
            while (true) {
                try (ResultSet rs = s.executeQuery("SELECT current_setting('port')::int, count(*) FROM global_rows")) {
                    rs.next();
                    if (replicaPorts.contains(rs.getInt(1))) {
                        return;
                    }
                }
                assertThat(System.nanoTime() - deadline).as("a read of global_rows through " + port + " reaches a replica")
                        .isNegative();
                Thread.sleep(100);
            }
        }
    }

    @AfterAll
    static void stop() {
        try {
            cluster.resetToInitialTopology();
        } finally {
            if (proxyA != null) {
                proxyA.close();
            }
            if (proxyB != null) {
                proxyB.close();
            }
            if (proxyC != null) {
                proxyC.close();
            }
        }
    }

    /** One mode's write-through-A, read-through-B loop. */
    record Loop(String mode, int sawWrite, int replicaReads, long[] readMicros) {
        String describe() {
            long[] sorted = readMicros.clone();
            Arrays.sort(sorted);
            double mean = Arrays.stream(sorted).average().orElse(0);
            return String.format("%-30s saw the write %4d/%d, replica share %5.1f %%, read latency mean %7.0f µs,"
                            + " p50 %6d µs, p99 %6d µs", mode, sawWrite, ITERATIONS, 100.0 * replicaReads / ITERATIONS,
                    mean, sorted[sorted.length / 2], sorted[(int) (sorted.length * 0.99)]);
        }
    }

    private static Loop writeThroughAReadThroughB(String label, String mode, long firstId) throws SQLException {
        return writeThenRead(portB, label, mode, firstId);
    }

    private static Loop writeThenRead(int readPort, String label, String mode, long firstId) throws SQLException {
        int saw = 0;
        int replicaReads = 0;
        long[] micros = new long[ITERATIONS];
        try (Connection a = connect(portA); Connection b = connect(readPort)) {
            try (Statement s = b.createStatement()) {
                s.execute("SET pgrelay.consistency = " + mode);
                try (ResultSet rs = s.executeQuery("SHOW pgrelay.consistency")) {
                    rs.next();
                    assertThat(rs.getString(1)).isEqualTo(mode);
                }
            }
            try (PreparedStatement insert = a.prepareStatement("INSERT INTO global_rows VALUES (?)");
                 PreparedStatement read = b.prepareStatement(
                         "SELECT current_setting('port')::int, count(*) FROM global_rows WHERE id = ?")) {
                for (int i = 0; i < ITERATIONS; i++) {
                    long id = firstId + i;
                    insert.setLong(1, id);
                    insert.executeUpdate(); // committed and acknowledged through A before B's read begins
                    read.setLong(1, id);
                    long started = System.nanoTime();
                    try (ResultSet rs = read.executeQuery()) {
                        rs.next();
                        micros[i] = (System.nanoTime() - started) / 1000;
                        if (replicaPorts.contains(rs.getInt(1))) {
                            replicaReads++;
                        }
                        if (rs.getLong(2) == 1) {
                            saw++;
                        }
                    }
                }
            }
        }
        Loop loop = new Loop(label, saw, replicaReads, micros);
        System.out.println("global consistency: " + loop.describe());
        return loop;
    }

    @Test
    void aWriteThroughOneInstanceIsSeenByAGlobalReadThroughAnother() throws Exception {
        // Undelayed first: the cost of global reads when replicas keep up.
        Loop eventualFast = writeThroughAReadThroughB("eventual, replicas not delayed", "eventual", 1_000_000);
        Loop globalFast = writeThroughAReadThroughB("global, replicas not delayed", "global", 2_000_000);
        Loop eventual;
        Loop causal;
        Loop global;
        Loop shortWait;
        for (LocalNode replica : cluster.replicas()) {
            replica.setConf("recovery_min_apply_delay", APPLY_DELAY_MS + "ms");
        }
        try {
            eventual = writeThroughAReadThroughB("eventual, replicas " + APPLY_DELAY_MS + " ms late", "eventual",
                    3_000_000);
            causal = writeThroughAReadThroughB("causal, replicas " + APPLY_DELAY_MS + " ms late", "causal", 4_000_000);
            global = writeThroughAReadThroughB("global, replicas " + APPLY_DELAY_MS + " ms late", "global", 5_000_000);
            shortWait = writeThenRead(portC, "global, global-wait 5ms (C)", "global", 6_000_000);
        } finally {
            for (LocalNode replica : cluster.replicas()) {
                replica.resetConf("recovery_min_apply_delay");
            }
        }

        assertThat(global.sawWrite()).as("global reads through B see A's writes").isEqualTo(ITERATIONS);
        assertThat(globalFast.sawWrite()).as("global reads through B, replicas not delayed").isEqualTo(ITERATIONS);
        assertThat(eventual.sawWrite()).as("eventual reads through B miss A's latest write").isLessThan(ITERATIONS);
        assertThat(causal.sawWrite()).as("causal orders a session's own writes only").isLessThan(ITERATIONS);
        // routing.global-wait (100 ms) outlasts the delay: replicas still serve global reads, only later.
        assertThat(global.replicaReads()).as("global reads served by a replica").isGreaterThan(ITERATIONS / 2);
        assertThat(eventualFast.replicaReads()).as("eventual reads on replicas").isEqualTo(ITERATIONS);
        assertThat(shortWait.sawWrite()).as("global reads through C, on the primary after 5 ms").isEqualTo(ITERATIONS);
        assertThat(shortWait.replicaReads()).as("C waits less than the replicas are late").isLessThan(ITERATIONS / 2);
    }

    /** A concurrent run: one writer through A, readers through B, for a while. */
    record Concurrent(long reads, long missed, long replicaReads) {
    }

    private static Concurrent concurrentRun(String mode, int readers, Duration run, long firstId) throws Exception {
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong reads = new AtomicLong();
        AtomicLong missed = new AtomicLong();
        AtomicLong replicaReads = new AtomicLong();
        AtomicLong lastCommitted = new AtomicLong(firstId);
        ExecutorService pool = Executors.newFixedThreadPool(readers + 1);
        List<Future<?>> tasks = new ArrayList<>();
        tasks.add(pool.submit(() -> {
            try (Connection a = connect(portA);
                 PreparedStatement insert = a.prepareStatement("INSERT INTO global_rows VALUES (?)")) {
                for (long id = firstId + 1; running.get(); id++) {
                    insert.setLong(1, id);
                    insert.executeUpdate();
                    lastCommitted.set(id);
                }
            }
            return null;
        }));
        for (int r = 0; r < readers; r++) {
            tasks.add(pool.submit(() -> {
                try (Connection b = connect(portB); Statement s = b.createStatement();
                     PreparedStatement read = b.prepareStatement(
                             "SELECT current_setting('port')::int, count(*) FROM global_rows WHERE id = ?")) {
                    s.execute("SET pgrelay.consistency = " + mode);
                    while (running.get()) {
                        long committed = lastCommitted.get(); // acknowledged before this read begins
                        read.setLong(1, committed);
                        try (ResultSet rs = read.executeQuery()) {
                            rs.next();
                            if (committed > firstId && rs.getLong(2) != 1) {
                                missed.incrementAndGet();
                            }
                            if (replicaPorts.contains(rs.getInt(1))) {
                                replicaReads.incrementAndGet();
                            }
                        }
                        reads.incrementAndGet();
                    }
                }
                return null;
            }));
        }
        try {
            Thread.sleep(run.toMillis());
        } finally {
            running.set(false);
            for (Future<?> task : tasks) {
                task.get(60, TimeUnit.SECONDS);
            }
            pool.shutdown();
        }
        Concurrent result = new Concurrent(reads.get(), missed.get(), replicaReads.get());
        System.out.printf("global consistency: %-8s %d readers through B and a writer through A for %d s: %6d reads"
                        + " (%.0f per second), replica share %5.1f %%, %d missed a write acknowledged before%n", mode,
                readers, run.toSeconds(), result.reads(), result.reads() / (double) run.toSeconds(),
                100.0 * result.replicaReads() / Math.max(1, result.reads()), result.missed());
        return result;
    }

    @Test
    void concurrentGlobalReadsShareThePrimarysPositionQueries() throws Exception {
        for (LocalNode replica : cluster.replicas()) {
            replica.resetConf("recovery_min_apply_delay"); // replicas keep up: reads overlap in the position queries
        }
        int readers = 8;
        Duration run = Duration.ofSeconds(5);
        Concurrent eventual = concurrentRun("eventual", readers, run, 8_000_000);
        long requestsBefore = scrape(adminB, "pgrelay_routing_global_position_requests_total");
        long queriesBefore = scrape(adminB, "pgrelay_routing_global_position_queries_total");
        long checksBefore = scrape(adminB, "pgrelay_routing_causal_checks_total");
        Concurrent global = concurrentRun("global", readers, run, 9_000_000);
        long requests = scrape(adminB, "pgrelay_routing_global_position_requests_total") - requestsBefore;
        long queries = scrape(adminB, "pgrelay_routing_global_position_queries_total") - queriesBefore;
        long checks = scrape(adminB, "pgrelay_routing_causal_checks_total") - checksBefore;
        System.out.printf("global consistency: %d position requests answered by %d queries on the primary "
                        + "(%.2f reads per query); %d replay checks on replicas (%.2f per read)%n", requests, queries,
                queries == 0 ? 0.0 : (double) requests / queries, checks, (double) checks / Math.max(1, global.reads()));
        assertThat(global.missed()).as("global reads that missed a write acknowledged before they began").isZero();
        assertThat(eventual.reads()).as("eventual reads ran").isPositive();
        assertThat(requests).as("every global read asked for a position").isGreaterThanOrEqualTo(global.reads());
        assertThat(queries).as("batched: never more queries than requests").isPositive().isLessThanOrEqualTo(requests);
    }

    /** A counter's value in a proxy's /metrics. */
    private static long scrape(int adminPort, String name) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + adminPort + "/metrics")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        for (String line : response.body().split("\n")) {
            if (line.startsWith(name + " ")) {
                return (long) Double.parseDouble(line.substring(name.length() + 1).trim());
            }
        }
        throw new AssertionError(name + " not in /metrics of " + adminPort);
    }

    private static ProxyProcess start(String name, int port, int adminPort, String extraYaml) throws IOException {
        StringBuilder yaml = new StringBuilder();
        yaml.append("listen: 127.0.0.1:").append(port).append('\n');
        yaml.append("shutdown-timeout: 5s\n");
        yaml.append("admin: { listen: 127.0.0.1:").append(adminPort).append(", token: test-token }\n");
        yaml.append("nodes:\n");
        for (LocalNode node : cluster.nodes()) {
            yaml.append("  - { name: ").append(node.name()).append(", host: ").append(node.host())
                    .append(", port: ").append(node.port()).append(" }\n");
        }
        yaml.append("auth:\n  users:\n    - { name: app, password: app }\n");
        yaml.append("monitor: { user: postgres, password: postgres, interval: 250ms }\n");
        yaml.append("failover: { automatic: false }\n");
        yaml.append(extraYaml);
        Path config = Files.createTempFile(name + "-", ".yaml");
        config.toFile().deleteOnExit();
        Files.writeString(config, yaml.toString());
        // The children's logs would drown the figures; their last lines are kept to explain a death.
        return ProxyProcess.start(name, JAR, config, ProxyProcess.inheritableJvmOptions(),
                new PrintStream(OutputStream.nullOutputStream()));
    }

    private static Connection connect(int port) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", "app");
        props.setProperty("password", "app");
        props.setProperty("sslmode", "disable");
        props.setProperty("connectTimeout", "10");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/app", props);
    }

    private static URI readyz(int adminPort) {
        return URI.create("http://127.0.0.1:" + adminPort + "/readyz");
    }
}
