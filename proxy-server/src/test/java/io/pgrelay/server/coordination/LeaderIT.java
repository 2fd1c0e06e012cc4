package io.pgrelay.server.coordination;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgrelay.server.coordination.ProxyFleet.Instance;
import io.pgrelay.testkit.LocalCluster;
import io.pgrelay.testkit.LocalEtcd;
import io.pgrelay.testkit.TestCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Leader election among three pgrelay processes over a three-member etcd: exactly one leads and
 * all agree on it, the cluster record it seeds names the primary, a mutating REST call or console
 * command on a follower is carried out by the leader and reaches everyone through the record (node
 * additions, removals and weights included), and after kill -9 of the leader another one leads
 * within the TTL plus a monitor interval.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LeaderIT {
    private static final Duration TTL = Duration.ofSeconds(5);
    private static final Duration MONITOR_INTERVAL = Duration.ofMillis(250);
    private static final ObjectMapper JSON = new ObjectMapper();

    private static LocalEtcd etcd;
    private static ProxyFleet fleet;
    private static LocalCluster cluster;

    @BeforeAll
    static void start() {
        cluster = TestCluster.get();
        etcd = LocalEtcd.start(3);
        fleet = new ProxyFleet(etcd, cluster, 3, TTL, "");
    }

    @AfterAll
    static void stop() {
        if (fleet != null) {
            fleet.close();
        }
        if (etcd != null) {
            etcd.close();
        }
    }

    /** Waits until every one of {@code instances} names the same leader, one of them; returns it. */
    private static Instance awaitOneLeader(List<Instance> instances, Duration within) {
        Instance[] leader = new Instance[1];
        await().atMost(within).pollInterval(Duration.ofMillis(50)).untilAsserted(() -> {
            Set<String> named = new HashSet<>();
            List<String> ids = new ArrayList<>();
            for (Instance instance : instances) {
                named.add(String.valueOf(instance.leader()));
                ids.add(instance.id());
            }
            assertThat(named).as("the leader each instance names").hasSize(1);
            String id = named.iterator().next();
            assertThat(ids).as("the instances' own ids").contains(id);
            leader[0] = instances.get(ids.indexOf(id));
        });
        return leader[0];
    }

    private static List<Instance> followers(Instance leader) {
        return fleet.instances.stream().filter(i -> i != leader && i.process.isAlive()).toList();
    }

    @Test
    @Order(1)
    void exactlyOneInstanceLeadsAndEveryoneShowsIt() throws Exception {
        Instance leader = awaitOneLeader(fleet.instances, Duration.ofSeconds(20));
        String leaderId = leader.id();
        // The leader key and the member keys are watched apart: wait until each instance lists all three.
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            for (Instance instance : fleet.instances) {
                JsonNode proxies = instance.cluster().get("proxies");
                assertThat(proxies).as("proxies listed by %s", instance).hasSize(3);
                List<String> leaders = new ArrayList<>();
                for (JsonNode proxy : proxies) {
                    if (proxy.get("leader").asBoolean()) {
                        leaders.add(proxy.get("id").asText());
                    }
                }
                assertThat(leaders).as("proxies marked leader by %s", instance).containsExactly(leaderId);
            }
        });
        // The first leader seeded the cluster record from its view; everyone routes by it.
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            for (Instance instance : fleet.instances) {
                JsonNode record = instance.cluster().get("record");
                assertThat(record).as("cluster record on %s", instance).isNotNull();
                assertThat(record.get("primary").asText()).isEqualTo(cluster.primary().name());
                assertThat(record.get("epoch").asLong()).isPositive();
            }
        });
        Properties console = new Properties();
        console.setProperty("user", "postgres");
        console.setProperty("password", "postgres");
        console.setProperty("preferQueryMode", "simple");
        Instance follower = followers(leader).get(0);
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + follower.port + "/pgrelay",
                console); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW PROXIES")) {
            List<String> leaders = new ArrayList<>();
            while (rs.next()) {
                if (rs.getString("leader").equals("t")) {
                    leaders.add(rs.getString("id"));
                }
            }
            assertThat(leaders).containsExactly(leader.id());
        }
    }

    @Test
    @Order(2)
    void aMutatingCallOnAFollowerIsCarriedOutByTheLeader() throws Exception {
        Instance leader = awaitOneLeader(fleet.instances, Duration.ofSeconds(20));
        Instance follower = followers(leader).get(0);
        String replica = cluster.replicas().get(0).name();
        HttpResponse<String> drained = follower.post("/nodes/" + replica + "/drain", "");
        assertThat(drained.statusCode()).as(drained.body()).isEqualTo(200);
        assertThat(JSON.readTree(drained.body()).get("operation").asText()).isEqualTo("drain " + replica);
        assertThat(state(leader, replica)).as("%s on the leader", replica).isEqualTo("drained");
        // Through the cluster record, every instance has it drained, at the same epoch.
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            Set<Long> epochs = new HashSet<>();
            for (Instance instance : fleet.instances) {
                assertThat(state(instance, replica)).as("%s on %s", replica, instance).isEqualTo("drained");
                JsonNode record = instance.cluster().get("record");
                assertThat(record.get("drained").toString()).contains(replica);
                epochs.add(record.get("epoch").asLong());
            }
            assertThat(epochs).hasSize(1);
        });
        String followerId = follower.id();
        await().atMost(Duration.ofSeconds(5)).until(() -> leader.output().contains("via " + followerId));

        // The console carries its command the same way.
        Properties console = new Properties();
        console.setProperty("user", "postgres");
        console.setProperty("password", "postgres");
        console.setProperty("preferQueryMode", "simple");
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + follower.port + "/pgrelay",
                console); Statement s = c.createStatement()) {
            s.execute("ENABLE " + replica);
        }
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            for (Instance instance : fleet.instances) {
                assertThat(state(instance, replica)).as("%s on %s", replica, instance).isEqualTo("up");
            }
        });
    }

    private static String state(Instance instance, String node) {
        for (JsonNode n : instance.cluster().get("nodes")) {
            if (n.get("name").asText().equals(node)) {
                return n.get("state").asText();
            }
        }
        throw new AssertionError(node + " not listed by " + instance);
    }

    /** {@code name}'s entry in {@code instance}'s cluster view, or null when it lists none (or a removed one). */
    private static JsonNode listed(Instance instance, String name) {
        JsonNode cluster = instance.cluster();
        assertThat(cluster).as("%s answers", instance).isNotNull();
        for (JsonNode n : cluster.get("nodes")) {
            if (n.get("name").asText().equals(name) && !n.get("state").asText().equals("removed")) {
                return n;
            }
        }
        return null;
    }

    @Test
    @Order(3)
    void nodesAddedRemovedAndReweightedAtRuntimeReachEveryInstanceThroughTheRecord() throws Exception {
        Instance leader = awaitOneLeader(fleet.instances, Duration.ofSeconds(20));
        List<Instance> followers = followers(leader);
        // A second name for the last replica: a node no instance's configuration lists.
        var server = cluster.replicas().get(cluster.replicas().size() - 1);
        HttpResponse<String> added = followers.get(0).post("/nodes", """
                {"name": "extra", "host": "%s", "port": %d, "weight": 3}""".formatted(server.host(), server.port()));
        assertThat(added.statusCode()).as(added.body()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            for (Instance instance : fleet.instances) {
                JsonNode extra = listed(instance, "extra");
                assertThat(extra).as("extra on %s", instance).isNotNull();
                assertThat(extra.get("weight").asInt()).isEqualTo(3);
                assertThat(extra.get("state").asText()).as("extra on %s, probed by it", instance).isEqualTo("up");
                assertThat(extra.get("role").asText()).isEqualTo("replica");
                assertThat(instance.cluster().get("record").get("nodes").toString()).contains("\"extra\"");
            }
        });

        // A weight changed in the leader's configuration and reloaded there reaches the others.
        String replica = cluster.replicas().get(0).name();
        String yaml = Files.readString(leader.config);
        String changed = yaml.replaceFirst("(\\{ name: " + replica + ", [^}]*?) \\}", "$1, weight: 5 }");
        assertThat(changed).as("the leader's configuration with a new weight for %s", replica).isNotEqualTo(yaml);
        Files.writeString(leader.config, changed);
        HttpResponse<String> reloaded = leader.post("/reload", "");
        assertThat(reloaded.statusCode()).as(reloaded.body()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            for (Instance instance : fleet.instances) {
                assertThat(listed(instance, replica).get("weight").asInt()).as("%s on %s", replica, instance)
                        .isEqualTo(5);
            }
        });

        // Removed through another follower: gone everywhere, and the record no longer names it.
        HttpResponse<String> removed = followers.get(1).delete("/nodes/extra");
        assertThat(removed.statusCode()).as(removed.body()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            for (Instance instance : fleet.instances) {
                assertThat(listed(instance, "extra")).as("extra on %s", instance).isNull();
                JsonNode record = instance.cluster().get("record");
                assertThat(record.get("nodes").toString()).doesNotContain("\"extra\"");
                assertThat(record.get("removed").toString()).contains("extra");
            }
        });
    }

    @Test
    @Order(4)
    void afterKill9OfTheLeaderAnotherLeadsWithinTheTtlPlusAMonitorInterval() {
        Instance leader = awaitOneLeader(fleet.instances, Duration.ofSeconds(20));
        String oldId = leader.id();
        List<Instance> survivors = followers(leader);
        long t0 = System.nanoTime();
        leader.kill9();
        // etcd expires leases on a 500 ms tick: that is the only slack allowed on top.
        Duration bound = TTL.plus(MONITOR_INTERVAL).plusMillis(500);
        Instance next = awaitOneLeader(survivors, bound.plusSeconds(5));
        long millis = (System.nanoTime() - t0) / 1_000_000;
        System.out.printf("LeaderIT: after kill -9 of the leader %s, %s led for all survivors after %d ms"
                + " (TTL %d ms)%n", oldId, next.id(), millis, TTL.toMillis());
        assertThat(next.id()).isNotEqualTo(oldId);
        assertThat(millis).as("ms until a new leader").isLessThanOrEqualTo(bound.toMillis());
    }
}
