package io.pgrelay.server.coordination;

import com.fasterxml.jackson.databind.JsonNode;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.pgrelay.server.testing.AdminClient;
import io.pgrelay.server.testing.TestProxy;
import io.pgrelay.testkit.LocalEtcd;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Three pgrelay instances in front of the shared PostgreSQL cluster register in a real three-member
 * etcd cluster: each lists all of them in {@code GET /api/v1/cluster} and {@code SHOW PROXIES}, an
 * instance that closes disappears at once (its lease is revoked, not left to expire), the
 * membership goes on when one etcd member is killed, a deleted registration is put back, and an
 * instance started while etcd has no quorum serves anyway and joins when the quorum returns.
 */
class MembershipIT {
    /** Long enough that "gone within a second" can only be the revoked lease, not an expired one. */
    private static final Duration TTL = Duration.ofSeconds(5);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private static LocalEtcd etcd;
    private static String prefix;
    private static String coordination;
    private static final List<TestProxy> proxies = new ArrayList<>();

    @BeforeAll
    static void start() {
        etcd = LocalEtcd.start(3);
        // A prefix per run: nothing a previous run left in etcd (there is none: fresh data dirs) could count.
        prefix = "/pgrelay/membership-it-" + UUID.randomUUID().toString().substring(0, 8);
        coordination = """
                coordination:
                  etcd:
                    endpoints: %s
                    prefix: %s
                    ttl: %ds
                """.formatted(etcd.endpointsYaml(), prefix, TTL.toSeconds());
        for (int i = 0; i < 3; i++) {
            proxies.add(TestProxy.start(coordination));
        }
    }

    @AfterAll
    static void stop() {
        proxies.forEach(TestProxy::close);
        if (etcd != null) {
            etcd.close();
        }
    }

    /** The "proxies" of one instance's GET /api/v1/cluster. */
    private static List<JsonNode> listed(TestProxy proxy) {
        JsonNode listed = new AdminClient(proxy).cluster().get("proxies");
        assertThat(listed).as("proxies of %s", proxy.adminUri()).isNotNull();
        List<JsonNode> list = new ArrayList<>();
        listed.forEach(list::add);
        return list;
    }

    private static Set<String> addresses(TestProxy proxy) {
        Set<String> addresses = new HashSet<>();
        for (JsonNode member : listed(proxy)) {
            addresses.add(member.get("address").asText());
        }
        return addresses;
    }

    private static String address(TestProxy proxy) {
        return "127.0.0.1:" + proxy.port();
    }

    private static Set<String> addressesOf(List<TestProxy> instances) {
        Set<String> addresses = new HashSet<>();
        instances.forEach(proxy -> addresses.add(address(proxy)));
        return addresses;
    }

    /** Waits until every one of {@code instances} lists exactly {@code instances}. */
    private static void awaitEveryoneLists(List<TestProxy> instances, Duration within) {
        Set<String> expected = addressesOf(instances);
        await().atMost(within).pollInterval(Duration.ofMillis(50)).untilAsserted(() -> {
            for (TestProxy proxy : instances) {
                assertThat(addresses(proxy)).as("instances listed by %s", address(proxy))
                        .containsExactlyInAnyOrderElementsOf(expected);
            }
        });
    }

    @Test
    void everyInstanceListsAllThreeAndMarksItself() throws Exception {
        awaitEveryoneLists(proxies, Duration.ofSeconds(10));
        Set<String> ids = new HashSet<>();
        for (TestProxy proxy : proxies) {
            List<JsonNode> listed = listed(proxy);
            List<JsonNode> self = listed.stream().filter(member -> member.get("self").asBoolean()).toList();
            assertThat(self).as("self in the list of %s", address(proxy)).singleElement().satisfies(member -> {
                assertThat(member.get("address").asText()).isEqualTo(address(proxy));
                assertThat("http://" + member.get("admin").asText()).isEqualTo(proxy.adminUri());
                assertThat(member.get("version").asText()).isEqualTo("0.1.0-SNAPSHOT");
                assertThat(member.get("startedAt").asText()).isNotBlank();
            });
            listed.forEach(member -> ids.add(member.get("id").asText()));
            assertThat(metric(proxy, "pgrelay_coordination_members")).isEqualTo(3.0);
        }
        assertThat(ids).as("every instance sees the same three ids").hasSize(3);
    }

    @Test
    void showProxiesThroughTheConsoleListsThree() throws SQLException {
        awaitEveryoneLists(proxies, Duration.ofSeconds(10));
        Properties simple = new Properties();
        simple.setProperty("preferQueryMode", "simple");
        try (Connection console = proxies.get(1).connect("pgrelay", "postgres", "postgres", simple);
             Statement s = console.createStatement(); ResultSet rs = s.executeQuery("SHOW PROXIES")) {
            Set<String> addresses = new HashSet<>();
            int self = 0;
            while (rs.next()) {
                addresses.add(rs.getString("address"));
                assertThat(rs.getString("id")).isNotBlank();
                assertThat(rs.getString("started_at")).isNotBlank();
                if (rs.getString("self").equals("t")) {
                    self++;
                    assertThat(rs.getString("address")).isEqualTo(address(proxies.get(1)));
                }
            }
            assertThat(addresses).containsExactlyInAnyOrderElementsOf(addressesOf(proxies));
            assertThat(self).isEqualTo(1);
        }
    }

    @Test
    void aClosedInstanceDisappearsAtOnce() {
        TestProxy fourth = TestProxy.start(coordination);
        List<TestProxy> four = new ArrayList<>(proxies);
        four.add(fourth);
        try {
            awaitEveryoneLists(four, Duration.ofSeconds(10));
        } finally {
            long t0 = System.nanoTime();
            fourth.close();
            // The lease is revoked as the instance closes: the others see it go well within one TTL.
            awaitEveryoneLists(proxies, Duration.ofSeconds(1));
            System.out.printf("MembershipIT: a closed instance left the others' lists %d ms after close() began%n",
                    (System.nanoTime() - t0) / 1_000_000);
        }
    }

    @Test
    void membershipGoesOnWhenOneEtcdMemberIsKilled() throws Exception {
        awaitEveryoneLists(proxies, Duration.ofSeconds(10));
        etcd.member(0).kill9();
        try {
            // The leases are renewed through the two members left: after more than a TTL all three are still there.
            Thread.sleep(TTL.toMillis() + 1000);
            awaitEveryoneLists(proxies, Duration.ofSeconds(5));
            // Joining and leaving still work with a quorum of two.
            TestProxy fourth = TestProxy.start(coordination);
            List<TestProxy> four = new ArrayList<>(proxies);
            four.add(fourth);
            try {
                awaitEveryoneLists(four, Duration.ofSeconds(15));
            } finally {
                fourth.close();
            }
            awaitEveryoneLists(proxies, Duration.ofSeconds(5));
        } finally {
            etcd.member(0).start();
            etcd.awaitHealthy(Duration.ofSeconds(20));
        }
    }

    @Test
    void anInstanceWhoseKeyIsDeletedPutsItBack() throws Exception {
        awaitEveryoneLists(proxies, Duration.ofSeconds(10));
        String id = listed(proxies.get(2)).stream().filter(member -> member.get("self").asBoolean())
                .findFirst().orElseThrow().get("id").asText();
        try (Client client = Client.builder().endpoints(etcd.endpoints().toArray(String[]::new)).build()) {
            long deleted = client.getKVClient().delete(ByteSequence.from(prefix + "/members/" + id,
                    StandardCharsets.UTF_8)).get(10, TimeUnit.SECONDS).getDeleted();
            assertThat(deleted).as("the key of %s", id).isEqualTo(1);
        }
        awaitEveryoneLists(proxies, Duration.ofSeconds(5));
    }

    @Test
    void anInstanceStartedWithoutAnEtcdQuorumJoinsWhenItReturns() throws Exception {
        awaitEveryoneLists(proxies, Duration.ofSeconds(10));
        etcd.member(1).stop();
        etcd.member(2).stop();
        TestProxy late = null;
        try {
            // pgrelay does not need etcd to serve: it starts, serves, and keeps trying to register.
            late = TestProxy.start(coordination);
            try (Connection c = late.connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                    "SELECT 1")) {
                assertThat(rs.next()).isTrue();
            }
            assertThat(addresses(late)).as("not registered without a quorum").doesNotContain(address(late));
        } finally {
            etcd.member(1).start();
            etcd.member(2).start();
        }
        try {
            List<TestProxy> four = new ArrayList<>(proxies);
            four.add(late);
            awaitEveryoneLists(four, Duration.ofSeconds(20));
        } finally {
            late.close();
        }
        awaitEveryoneLists(proxies, Duration.ofSeconds(5));
    }

    private static double metric(TestProxy proxy, String name) throws IOException, InterruptedException {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(proxy.adminUri() + "/metrics"))
                .GET().build(), HttpResponse.BodyHandlers.ofString());
        for (String line : response.body().split("\n")) {
            if (line.startsWith(name + " ")) {
                return Double.parseDouble(line.substring(name.length() + 1).trim());
            }
        }
        throw new AssertionError(name + " not in /metrics of " + proxy.adminUri());
    }
}
