package io.pgrelay.server.faults;

import io.pgrelay.server.testing.AdminClient;
import io.pgrelay.server.testing.TestProxy;
import io.pgrelay.testkit.LocalCluster;
import io.pgrelay.testkit.LocalNode;
import io.pgrelay.testkit.Pgbench;
import io.pgrelay.testkit.Processes;
import io.pgrelay.testkit.TestCluster;
import io.netty.util.internal.PlatformDependent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The fault matrix: each node (the primary, each replica) and each fault (kill -9, clean stop,
 * SIGSTOP then SIGCONT) while pgbench reads and pgjdbc clients write and read through the proxy,
 * with synchronous replication. Every client gets a result or a clean SQLSTATE within the
 * configured timeouts, never a hang; a frozen replica is taken out by the probe timeout (and a
 * ban) within seconds; a replica fault costs no client an error; idle sessions keep working;
 * no acknowledged write is lost; the proxy's threads and memory stay flat. Automatic failover is off: each
 * cell heals the node it broke, so the next cell starts from the same cluster. One row per
 * cell is printed (docs/faults.md holds a run's table).
 */
class FaultMatrixIT {
    /** No statement may take longer than this: a read timeout here is a hang. */
    private static final int CLIENT_SOCKET_TIMEOUT_S = 30;

    private static LocalCluster cluster;
    private static TestProxy proxy;
    private static AdminClient admin;
    private static int proxyThreadsAtStart;
    private static long heapAtStart;
    private static long directAtStart;
    /** What a cell may leave behind in the JVM the proxy shares with the test: far below one leaked pool or session buffer set per statement. */
    private static final long MEMORY_SLACK_BYTES = 64L << 20;

    enum Fault { KILL_9, CLEAN_STOP, SIGSTOP }

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.startDedicated();
        proxy = TestProxy.start(cluster, """
                monitor: { user: postgres, password: postgres, interval: 250ms, query-timeout: 1s, ban-time: 3s }
                backend: { connect-timeout: 2s, query-timeout: 5s }
                failover: { automatic: false, client-wait: 10s }
                """);
        admin = new AdminClient(proxy);
        Processes.Result init = Pgbench.run(proxy.host(), proxy.port(), "-i", "-s", "1", "-q");
        assertThat(init.exitCode()).as(init.output()).isZero();
        AdminClient.Reply mode = admin.call("PUT", "/api/v1/replication-mode", "{\"mode\":\"sync\",\"acks\":1}");
        assertThat(mode.status()).as(mode.body().toPrettyString()).isEqualTo(200);
        try (Connection c = proxy.connect(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE fault_acks (cell text, n int, PRIMARY KEY (cell, n))");
        }
        cluster.waitForReplication(Duration.ofSeconds(30));
        proxyThreadsAtStart = proxyThreads();
        heapAtStart = heapAfterGc();
        directAtStart = nettyDirectBytes();
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

    static Stream<Arguments> cells() {
        return Stream.of("pg1", "pg2", "pg3")
                .flatMap(node -> Stream.of(Fault.values()).map(fault -> Arguments.of(node, fault)));
    }

    @ParameterizedTest(name = "{1} of {0}")
    @MethodSource("cells")
    void everyClientGetsAResultOrACleanError(String nodeName, Fault fault) throws Exception {
        LocalNode node = cluster.node(nodeName);
        boolean primary = nodeName.equals(admin.primary());
        String cell = nodeName + "-" + fault;
        awaitAllUp();

        Connection idle = connect();
        assertThat(one(idle, "SELECT 1")).isEqualTo(1);
        CompletableFuture<Processes.Result> bench = CompletableFuture.supplyAsync(
                () -> Pgbench.run(proxy.host(), proxy.port(), "-S", "-c", "4", "-j", "2", "-T", "14"));
        Workload writer = Workload.writer(FaultMatrixIT::connect, cell);
        Workload reader = Workload.reader(FaultMatrixIT::connect);
        Thread.sleep(2000);

        long faultAt = System.nanoTime();
        long bannedAfterMillis = -1;
        long slowestNewSessionMillis = 0;
        switch (fault) {
            case KILL_9 -> node.kill9();
            case CLEAN_STOP -> node.stop();
            case SIGSTOP -> node.sigstop();
        }
        try {
            if (fault == Fault.SIGSTOP && !primary) {
                await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50))
                        .until(() -> "down".equals(admin.state(nodeName)));
                bannedAfterMillis = (System.nanoTime() - faultAt) / 1_000_000;
                // New sessions read at once from what is left: none waits out the connect timeout.
                for (int i = 0; i < 3; i++) {
                    long began = System.nanoTime();
                    try (Connection fresh = connect()) {
                        assertThat(one(fresh, "SELECT count(*) FROM pgbench_branches")).isEqualTo(1);
                    }
                    slowestNewSessionMillis = Math.max(slowestNewSessionMillis, (System.nanoTime() - began) / 1_000_000);
                }
            }
            if (!primary) {
                assertThat(one(idle, "SELECT 1")).as("an idle session works while a replica is out").isEqualTo(1);
            }
            Thread.sleep(fault == Fault.SIGSTOP ? 5000 : 3000);
        } finally {
            switch (fault) {
                case KILL_9, CLEAN_STOP -> node.start();
                case SIGSTOP -> node.sigcont();
            }
        }
        awaitAllUp();
        long healedAfterMillis = (System.nanoTime() - faultAt) / 1_000_000;

        Processes.Result pgbench = bench.get();
        writer.stop();
        reader.stop();
        assertThat(one(idle, "SELECT 1")).as("the idle session works after the fault").isEqualTo(1);
        idle.close();

        Set<Integer> present = new HashSet<>();
        try (Connection c = cluster.primary().connect("app", "postgres", "postgres"); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT n FROM fault_acks WHERE cell = '" + cell + "'")) {
            while (rs.next()) {
                present.add(rs.getInt(1));
            }
        }
        Set<Integer> lost = new HashSet<>(writer.acknowledged());
        lost.removeAll(present);

        System.out.printf("| %s | %s | %d | %s | %d ok, errors %s | %d ok, errors %s | %s | %s | %d | %d |%n",
                nodeName + (primary ? " (primary)" : ""), fault, pgbench.exitCode(), pgbenchSummary(pgbench),
                writer.acknowledged().size(), writer.errorStates(), reader.successes(), reader.errorStates(),
                bannedAfterMillis < 0 ? "—" : bannedAfterMillis + " ms",
                bannedAfterMillis < 0 ? "—" : slowestNewSessionMillis + " ms", healedAfterMillis, lost.size());

        assertThat(writer.hangs() + reader.hangs()).as("statements that hung (socket timeout %d s)",
                CLIENT_SOCKET_TIMEOUT_S).isZero();
        assertThat(writer.unexpected()).as("writer errors without a clean SQLSTATE").isEmpty();
        assertThat(reader.unexpected()).as("reader errors without a clean SQLSTATE").isEmpty();
        assertThat(lost).as("acknowledged writes missing on the primary").isEmpty();
        assertThat(writer.acknowledged()).as("writes acknowledged in the cell").isNotEmpty();
        if (!primary) {
            assertThat(pgbench.exitCode()).as("pgbench through a replica fault\n%s", pgbench.output()).isZero();
            assertThat(Pgbench.failed(pgbench)).as("failed pgbench transactions").isLessThanOrEqualTo(0);
            assertThat(writer.errorStates()).as("writes while a replica is out").isEmpty();
            assertThat(reader.errorStates()).as("reads while a replica is out").isEmpty();
        } else {
            assertThat(pgbench.exitCode()).as("pgbench ends by itself\n%s", pgbench.output()).isIn(0, 1, 2);
        }
        if (fault == Fault.SIGSTOP && !primary) {
            assertThat(bannedAfterMillis).as("a frozen replica is taken out within the probe timeout and then some")
                    .isLessThan(4000);
            assertThat(slowestNewSessionMillis).as("a new session's first read while a replica is frozen (ms)")
                    .isLessThan(2000);
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(proxyThreads())
                .as("pgrelay threads (at start %d)", proxyThreadsAtStart).isLessThanOrEqualTo(proxyThreadsAtStart + 2));
        long heap = heapAfterGc();
        long direct = nettyDirectBytes();
        System.out.printf("memory after %s: heap after GC %d MB (at start %d MB), direct %d MB (at start %d MB)%n",
                cell, heap >> 20, heapAtStart >> 20, direct >> 20, directAtStart >> 20);
        assertThat(heap).as("live heap after the cell (at start %d MB)", heapAtStart >> 20)
                .isLessThan(heapAtStart + MEMORY_SLACK_BYTES);
        assertThat(direct).as("direct memory after the cell (at start %d MB)", directAtStart >> 20)
                .isLessThan(directAtStart + MEMORY_SLACK_BYTES);
    }

    /** Live heap of this JVM (proxy and test) after a full collection. */
    private static long heapAfterGc() {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long least = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) { // the least of a few: a collection can race a finishing thread's allocations
            System.gc();
            least = Math.min(least, memory.getHeapMemoryUsage().getUsed());
        }
        return least;
    }

    /**
     * Direct memory in use: what Netty allocated without the JDK's cleaner (it counts that itself;
     * -1 when it does not use that path) plus the JDK's own direct buffers.
     */
    private static long nettyDirectBytes() {
        long jdk = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(pool -> pool.getName().equals("direct")).mapToLong(BufferPoolMXBean::getMemoryUsed).sum();
        return Math.max(0, PlatformDependent.usedDirectMemory()) + jdk;
    }

    private static String pgbenchSummary(Processes.Result result) {
        return Pgbench.processed(result) + " tx, " + Math.max(0, Pgbench.failed(result)) + " failed";
    }

    private static void awaitAllUp() {
        await().atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(100)).until(() ->
                List.of("pg1", "pg2", "pg3").stream().allMatch(n -> "up".equals(admin.state(n))));
    }

    static Connection connect() throws SQLException {
        Properties props = new Properties();
        props.setProperty("socketTimeout", String.valueOf(CLIENT_SOCKET_TIMEOUT_S));
        props.setProperty("connectTimeout", "20");
        return proxy.connect("app", "app", "app", props);
    }

    private static int one(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getInt(1) > 0 ? 1 : 0;
        }
    }

    private static int proxyThreads() {
        return (int) Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("pgrelay") || t.getName().startsWith("monitor-"))
                .count();
    }
}
