package io.pgrelay.server.coordination;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgrelay.server.coordination.ProxyFleet.Instance;
import io.pgrelay.testkit.LocalCluster;
import io.pgrelay.testkit.LocalEtcd;
import io.pgrelay.testkit.LocalNode;
import io.pgrelay.testkit.TestCluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Automatic failover with three coordinated pgrelay processes in front of a dedicated PostgreSQL
 * cluster, writes going through all three: kill -9 of the primary leads to exactly one promotion
 * (by the leader), every instance converges on the new primary through the cluster record, and
 * writes come back through each instance (the figure is printed).
 */
class CoordinatedFailoverIT {
    private static final Duration TTL = Duration.ofSeconds(5);

    private LocalCluster cluster;
    private LocalEtcd etcd;
    private ProxyFleet fleet;

    @BeforeEach
    void start() {
        cluster = TestCluster.startDedicated();
        etcd = LocalEtcd.start(3);
        // Each instance reaches the primary through a link of its own, which a test may cut.
        fleet = new ProxyFleet(etcd, cluster, 3, TTL, "failover: { automatic: true, detect: 3 }\n", true);
        cluster.execute("app", "CREATE TABLE IF NOT EXISTS coordinated_writes (instance int, n int)");
        cluster.execute("app", "GRANT ALL ON coordinated_writes TO app");
    }

    @AfterEach
    void stop() {
        if (fleet != null) {
            fleet.close();
        }
        if (etcd != null) {
            etcd.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    private static Properties app() {
        Properties props = new Properties();
        props.setProperty("user", "app");
        props.setProperty("password", "app");
        props.setProperty("sslmode", "disable");
        props.setProperty("connectTimeout", "5");
        props.setProperty("socketTimeout", "20");
        return props;
    }

    /** Every instance's record names the same primary and epoch; returns that primary. */
    private String awaitConverged(Duration within, String notThis) {
        return awaitConverged(fleet.instances, within, notThis);
    }

    /** As {@link #awaitConverged(Duration, String)}, over {@code instances} only (the others are gone). */
    private static String awaitConverged(List<Instance> instances, Duration within, String notThis) {
        String[] primary = new String[1];
        await().atMost(within).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
            Set<String> primaries = new HashSet<>();
            Set<Long> epochs = new HashSet<>();
            Set<String> leaders = new HashSet<>();
            for (Instance instance : instances) {
                JsonNode view = instance.cluster();
                assertThat(view).as("%s answers", instance).isNotNull();
                primaries.add(view.path("primary").asText("(none)"));
                epochs.add(view.path("record").path("epoch").asLong());
                leaders.add(view.path("leader").asText("(none)"));
            }
            assertThat(leaders).as("leader as each instance sees it").hasSize(1).doesNotContain("(none)");
            assertThat(epochs).as("record epochs").doesNotContain(0L);
            assertThat(primaries).as("primary as each instance routes").hasSize(1).doesNotContain("(none)", notThis);
            assertThat(epochs).as("record epoch on each instance").hasSize(1);
            primary[0] = primaries.iterator().next();
        });
        return primary[0];
    }

    @Test
    void kill9OfThePrimaryUnderLoadThroughAllThreeGivesExactlyOnePromotion() throws Exception {
        String old = awaitConverged(Duration.ofSeconds(20), "-");
        assertThat(old).isEqualTo(cluster.primary().name());
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong killedAt = new AtomicLong();
        AtomicLongArray lastCommit = new AtomicLongArray(3);
        AtomicLongArray longestGap = new AtomicLongArray(3);
        AtomicLongArray committed = new AtomicLongArray(3);
        List<Thread> writers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            int index = i;
            Instance instance = fleet.get(i);
            Thread writer = new Thread(() -> {
                int n = 0;
                while (running.get()) {
                    try (Connection c = DriverManager.getConnection(instance.jdbcUrl(), app());
                         Statement s = c.createStatement()) {
                        while (running.get()) {
                            s.execute("INSERT INTO coordinated_writes VALUES (" + index + ", " + n++ + ")");
                            committed.incrementAndGet(index);
                            long now = System.nanoTime();
                            long previous = lastCommit.getAndSet(index, now);
                            long killed = killedAt.get();
                            if (killed != 0) {
                                // The writes-back figure: the longest stretch without a commit around the kill.
                                longestGap.accumulateAndGet(index, now - Math.max(previous, killed - 1), Math::max);
                            }
                        }
                    } catch (SQLException e) {
                        sleep(20);
                    }
                }
            }, "writer-" + instance.name);
            writer.start();
            writers.add(writer);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> committed.get(0) > 20 && committed.get(1) > 20
                && committed.get(2) > 20);
        LocalNode primary = cluster.node(old);
        killedAt.set(System.nanoTime());
        primary.kill9();
        String next = awaitConverged(Duration.ofSeconds(30), old);
        long converged = System.nanoTime();
        // Writes are back through an instance once it commits again after convergence.
        await().atMost(Duration.ofSeconds(20)).until(() -> lastCommit.get(0) - converged > 0
                && lastCommit.get(1) - converged > 0 && lastCommit.get(2) - converged > 0);
        // The failover ends after the primary changed (re-pointing the other standbys): wait for its end.
        await().atMost(Duration.ofSeconds(30)).until(() -> fleet.instances.stream()
                .anyMatch(i -> i.output().contains("failover by automatic succeeded")));
        running.set(false);
        for (Thread writer : writers) {
            writer.join(30_000);
        }
        long worst = 0;
        StringBuilder figures = new StringBuilder();
        for (int i = 0; i < 3; i++) {
            long millis = longestGap.get(i) / 1_000_000;
            worst = Math.max(worst, millis);
            figures.append(fleet.get(i).name).append(' ').append(millis).append(" ms; ");
        }
        int promotions = promotions();
        System.out.printf("CoordinatedFailoverIT: kill -9 of %s; %s promoted; longest time without a commit"
                + " through each instance: %sworst %d ms; promotions %d%n", old, next, figures, worst, promotions);
        assertThat(promotions).as("automatic failovers that succeeded, over all instances").isEqualTo(1);
        assertOnlyOutOfRecovery(next);
        assertThat(worst).as("ms until writes came back through every instance").isLessThanOrEqualTo(5_000);
    }

    @Test
    void theLeaderAloneCutOffFromThePrimaryTriggersNoFailover() throws Exception {
        String primary = awaitConverged(Duration.ofSeconds(20), "-");
        Instance leader = leader();
        fleet.links.get(fleet.instances.indexOf(leader)).cut();
        // The leader sees the primary down within detect (3) probes; the others still see it: no majority.
        await().atMost(Duration.ofSeconds(30)).until(() -> leader.output().contains("1 of 3 live instance(s) see "
                + primary + " down"));
        Thread.sleep(TTL.toMillis());
        assertThat(count(leader.output(), "failover by automatic")).as("failovers started").isZero();
        for (LocalNode node : cluster.nodes()) {
            assertThat(node.isInRecovery()).as("%s in recovery", node.name()).isEqualTo(!node.name().equals(primary));
        }
        // The others write on; the cut-off leader sends writes nowhere (it sees no primary).
        for (Instance instance : fleet.instances) {
            JsonNode view = instance.cluster();
            if (instance == leader) {
                assertThat(view.path("primary").isNull()).as("primary on the cut-off leader").isTrue();
            } else {
                assertThat(view.path("primary").asText()).isEqualTo(primary);
                try (Connection c = DriverManager.getConnection(instance.jdbcUrl(), app());
                     Statement s = c.createStatement()) {
                    s.execute("INSERT INTO coordinated_writes VALUES (9, 9)");
                }
            }
        }
        System.out.printf("CoordinatedFailoverIT: leader %s cut off from %s alone for %d ms: no failover%n",
                leader.name, primary, TTL.toMillis());
        fleet.links.get(fleet.instances.indexOf(leader)).restore();
        awaitConverged(Duration.ofSeconds(20), "-");
    }

    @Test
    void anInstanceFrozenWhileThePrimaryChangesWritesOnlyToTheNewOneAfterSigcont() throws Exception {
        String old = awaitConverged(Duration.ofSeconds(20), "-");
        String leaderId = fleet.get(0).leader();
        Instance frozen = fleet.instances.stream().filter(i -> !leaderId.equals(i.id())).findFirst().orElseThrow();
        Instance leader = fleet.instances.stream().filter(i -> leaderId.equals(i.id())).findFirst().orElseThrow();
        cluster.execute("app", "CREATE TABLE IF NOT EXISTS written_on (port int)");
        cluster.execute("app", "GRANT ALL ON written_on TO app");
        frozen.signal("STOP");
        var switched = leader.post("/switchover", "");
        assertThat(switched.statusCode()).as(switched.body()).isEqualTo(200);
        List<Instance> awake = fleet.instances.stream().filter(i -> i != frozen).toList();
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            for (Instance instance : awake) {
                assertThat(instance.cluster().path("primary").asText()).isNotEqualTo(old).isNotBlank();
            }
        });
        String next = leader.cluster().path("primary").asText();
        // Longer than the TTL: the frozen instance's lease is gone when it wakes up.
        Thread.sleep(TTL.toMillis() + 1000);
        frozen.signal("CONT");
        long woke = System.nanoTime();
        int written = 0;
        List<String> errors = new ArrayList<>();
        while (System.nanoTime() - woke < Duration.ofSeconds(8).toNanos()) {
            try (Connection c = DriverManager.getConnection(frozen.jdbcUrl(), app());
                 Statement st = c.createStatement()) {
                st.execute("INSERT INTO written_on SELECT inet_server_port()");
                written++;
            } catch (SQLException e) {
                errors.add(e.getSQLState() + " " + e.getMessage());
                sleep(50);
            }
        }
        System.out.printf("CoordinatedFailoverIT: after SIGCONT, %d write(s) through the woken instance, errors %s%n",
                written, errors);
        assertThat(errors).as("writes refused as sent to a read-only old primary")
                .noneMatch(e -> e.startsWith("25006"));
        assertThat(written).as("writes through the woken instance once it holds the record").isPositive();
        try (Connection c = cluster.node(next).connect("app", "postgres", "postgres"); Statement st = c.createStatement();
             java.sql.ResultSet rs = st.executeQuery("SELECT count(*) FILTER (WHERE port <> "
                     + cluster.node(next).port() + "), count(*) FROM written_on")) {
            rs.next();
            assertThat(rs.getLong(1)).as("rows written on another node than the new primary").isZero();
            assertThat(rs.getLong(2)).isEqualTo(written);
        }
        assertThat(frozen.output()).contains("writes allowed (lease held, cluster record epoch");
        // Before promoting, the leader held writes everywhere: the frozen instance could not acknowledge
        // that epoch, so the leader waited for its lease to expire.
        assertThat(leader.output()).contains("no primary for every pgrelay instance: ok: epoch");
    }

    @Test
    void theLeaderKilledInTheMiddleOfAFailoverIsReplacedAndThereIsOnePromotion() throws Exception {
        String old = awaitConverged(Duration.ofSeconds(20), "-");
        Instance leader = leader();
        List<Instance> followers = fleet.instances.stream().filter(i -> i != leader).toList();
        // A frozen follower cannot acknowledge the "no primary" epoch: the leader waits for its
        // lease (about the TTL) between publishing that epoch and promoting. It dies in that window.
        Instance frozen = followers.get(0);
        Instance survivor = followers.get(1);
        frozen.signal("STOP");
        long t0 = System.nanoTime();
        cluster.node(old).kill9();
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(5))
                .until(() -> leader.output().contains("no primary (was " + old + ") while a promotion runs"));
        leader.kill9();
        long killedAt = System.nanoTime();
        assertThat(leader.output()).as("the leader died before it promoted")
                .doesNotContain("failover by automatic succeeded");
        await().atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(100))
                .until(() -> survivor.output().contains("failover by automatic succeeded"));
        long promotedAt = System.nanoTime();
        frozen.signal("CONT");
        String next = awaitConverged(followers, Duration.ofSeconds(30), old);
        int promotions = promotions();
        System.out.printf("CoordinatedFailoverIT: leader %s killed %d ms after the primary %s, in the middle of its"
                        + " failover; %s finished it %d ms later (%s promoted); promotions %d%n", leader.name,
                (killedAt - t0) / 1_000_000, old, survivor.name, (promotedAt - killedAt) / 1_000_000, next, promotions);
        assertThat(promotions).as("automatic failovers that succeeded, over all instances").isEqualTo(1);
        assertOnlyOutOfRecovery(next);
    }

    @Test
    void aFailoverItsLeaderLeftUnfinishedWhileThePrimaryLivesIsRolledBack() throws Exception {
        String old = awaitConverged(Duration.ofSeconds(20), "-");
        Instance leader = leader();
        List<Instance> followers = fleet.instances.stream().filter(i -> i != leader).toList();
        // As above, a frozen follower keeps the leader waiting between "no primary" and promoting;
        // this time the failover is an operator's, with the primary alive, and the leader dies there.
        Instance frozen = followers.get(0);
        Instance survivor = followers.get(1);
        frozen.signal("STOP");
        Thread operator = new Thread(() -> {
            try {
                leader.post("/failover", "");
            } catch (Exception e) {
                // the leader dies under the call
            }
        });
        operator.start();
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(5))
                .until(() -> leader.output().contains("no primary (was " + old + ") while a promotion runs"));
        leader.kill9();
        long killedAt = System.nanoTime();
        operator.join(10_000);
        // The next leader sees the old primary answer, fenced, the only one out of recovery, and no
        // quorum seeing it down: after twice the TTL it names it primary again.
        await().atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(100))
                .until(() -> survivor.output().contains(old + " is primary again"));
        long reinstatedAt = System.nanoTime();
        try (Connection c = DriverManager.getConnection(survivor.jdbcUrl(), app());
             Statement st = c.createStatement()) {
            await().atMost(Duration.ofSeconds(10)).ignoreExceptions()
                    .until(() -> st.executeUpdate("INSERT INTO coordinated_writes VALUES (8, 8)") == 1);
        }
        frozen.signal("CONT");
        String primary = awaitConverged(followers, Duration.ofSeconds(30), "-");
        System.out.printf("CoordinatedFailoverIT: leader %s killed in the middle of a failover with %s alive; %s named"
                + " it primary again %d ms later%n", leader.name, old, survivor.name,
                (reinstatedAt - killedAt) / 1_000_000);
        assertThat(primary).as("the primary every instance routes to").isEqualTo(old);
        assertThat((reinstatedAt - killedAt) / 1_000_000).as("ms until the rollback")
                .isGreaterThanOrEqualTo(2 * TTL.toMillis());
        assertOnlyOutOfRecovery(old);
        try (Connection c = cluster.node(old).connect("app", "postgres", "postgres");
             Statement st = c.createStatement(); java.sql.ResultSet rs = st.executeQuery(
                     "SELECT current_setting('default_transaction_read_only')")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).as("%s made writable again", old).isEqualTo("off");
        }
        assertThat(promotions()).as("automatic failovers that succeeded, over all instances").isZero();
    }

    @Test
    void withoutAnEtcdQuorumNoInstanceWritesAndNoneFailsOver() throws Exception {
        String primary = awaitConverged(Duration.ofSeconds(20), "-");
        etcd.member(1).stop();
        etcd.member(2).stop();
        // No lease renewal without a quorum: after ttl/2 every instance stops writing; reads go on.
        Thread.sleep(TTL.toMillis() / 2 + 1000);
        Instance instance = fleet.get(0);
        try (Connection c = DriverManager.getConnection(instance.jdbcUrl(), app()); Statement st = c.createStatement()) {
            try (java.sql.ResultSet rs = st.executeQuery("SELECT count(*) FROM coordinated_writes")) {
                assertThat(rs.next()).as("a read, served by a replica").isTrue();
            }
            long t0 = System.nanoTime();
            SQLException refused = null;
            try {
                st.execute("INSERT INTO coordinated_writes VALUES (7, 7)");
            } catch (SQLException e) {
                refused = e;
            }
            assertThat((Throwable) refused).as("a write without a fresh lease").isNotNull();
            assertThat(refused.getSQLState()).isEqualTo("57P03");
            assertThat(refused.getMessage()).contains("coordination lease");
            System.out.printf("CoordinatedFailoverIT: etcd without quorum: read served, write refused after %d ms: %s%n",
                    (System.nanoTime() - t0) / 1_000_000, refused.getMessage());
        }
        cluster.node(primary).kill9();
        Thread.sleep(TTL.toMillis() + 3000);
        for (LocalNode node : cluster.nodes()) {
            if (node.isRunning()) {
                assertThat(node.isInRecovery()).as("%s still in recovery: no failover without etcd", node.name())
                        .isTrue();
            }
        }
        for (Instance each : fleet.instances) {
            assertThat(count(each.output(), "failover requested by automatic")).as("failovers on %s", each).isZero();
        }
    }

    /** The instance every instance names as leader (the first one's view). */
    private Instance leader() {
        String leaderId = fleet.get(0).leader();
        return fleet.instances.stream().filter(i -> leaderId.equals(i.id())).findFirst().orElseThrow();
    }

    /** Automatic failovers that succeeded, over all instances. */
    private int promotions() {
        int promotions = 0;
        for (Instance instance : fleet.instances) {
            promotions += count(instance.output(), "failover by automatic succeeded");
        }
        return promotions;
    }

    /** {@code primary} is the one running node out of recovery. */
    private void assertOnlyOutOfRecovery(String primary) {
        int notInRecovery = 0;
        for (LocalNode node : cluster.nodes()) {
            if (node.isRunning() && !node.isInRecovery()) {
                notInRecovery++;
                assertThat(node.name()).isEqualTo(primary);
            }
        }
        assertThat(notInRecovery).as("nodes out of recovery").isEqualTo(1);
    }

    private static int count(String text, String what) {
        int count = 0;
        for (int at = text.indexOf(what); at >= 0; at = text.indexOf(what, at + 1)) {
            count++;
        }
        return count;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
