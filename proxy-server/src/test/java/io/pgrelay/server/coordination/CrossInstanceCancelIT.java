package io.pgrelay.server.coordination;

import com.fasterxml.jackson.databind.JsonNode;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.pgrelay.core.coordination.IssuedProcessIds;
import io.pgrelay.protocol.message.backend.ErrorResponse;
import io.pgrelay.protocol.message.frontend.CancelRequest;
import io.pgrelay.protocol.message.frontend.PasswordMessage;
import io.pgrelay.protocol.message.frontend.Query;
import io.pgrelay.server.testing.AdminClient;
import io.pgrelay.server.testing.RawPgClient;
import io.pgrelay.server.testing.RoundRobinBalancer;
import io.pgrelay.server.testing.TestProxy;
import io.pgrelay.testkit.LocalEtcd;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A CancelRequest that reaches another pgrelay instance than the session's, as a TCP load balancer
 * sends it: the key the session's instance issued names its slot, and the instance that receives the
 * cancel forwards it there. Real etcd, two pgrelay instances and the PostgreSQL cluster.
 */
class CrossInstanceCancelIT {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    /** A cleartext login, so that a bare socket client can hold the session and read its BackendKeyData. */
    private static final String AUTH = """
            auth:
              users:
                - { name: app, password: app, method: password }
                - { name: postgres, password: postgres }
            """;

    private static LocalEtcd etcd;
    private static String prefix;
    private static final List<TestProxy> proxies = new ArrayList<>();

    @BeforeAll
    static void start() {
        etcd = LocalEtcd.start(1);
        prefix = "/pgrelay/cancel-it-" + UUID.randomUUID().toString().substring(0, 8);
        String coordination = """
                coordination:
                  etcd:
                    endpoints: %s
                    prefix: %s
                    ttl: 5s
                """.formatted(etcd.endpointsYaml(), prefix);
        for (int i = 0; i < 2; i++) {
            proxies.add(TestProxy.start(coordination + AUTH));
        }
    }

    @AfterAll
    static void stop() {
        proxies.forEach(TestProxy::close);
        if (etcd != null) {
            etcd.close();
        }
    }

    /** The BackendKeyData of a session: what a client sends a cancel with. */
    private record Key(int processId, int secretKey) {
    }

    /** Logs in as app with a cleartext password and returns the key pgrelay issued. */
    private static Key login(RawPgClient client) throws IOException {
        client.startup("app", "app");
        client.readUntil('R');
        client.send(new PasswordMessage("app"));
        Key key = null;
        while (true) {
            RawPgClient.Received message = client.read();
            if (message.type() == 'E') {
                throw new AssertionError("login failed: " + message.error());
            }
            if (message.type() == 'K') {
                ByteBuffer body = ByteBuffer.wrap(message.body());
                key = new Key(body.getInt(), body.getInt());
            }
            if (message.type() == 'Z') {
                assertThat(key).as("BackendKeyData before ReadyForQuery").isNotNull();
                return key;
            }
        }
    }

    /** The slot {@code instance} holds as {@code seenBy} lists it; null while it lists none. */
    private static Integer slotOf(TestProxy instance, TestProxy seenBy) {
        for (JsonNode member : new AdminClient(seenBy).cluster().get("proxies")) {
            if (member.get("address").asText().equals("127.0.0.1:" + instance.port())) {
                JsonNode slot = member.get("slot");
                return slot == null || slot.isNull() ? null : slot.asInt();
            }
        }
        return null;
    }

    private static String selfId(TestProxy proxy) {
        for (JsonNode member : new AdminClient(proxy).cluster().get("proxies")) {
            if (member.get("self").asBoolean()) {
                return member.get("id").asText();
            }
        }
        throw new AssertionError(proxy.adminUri() + " does not list itself");
    }

    private static void sendCancel(TestProxy to, Key key, int secretKey) throws IOException {
        try (RawPgClient cancel = new RawPgClient(to.host(), to.port())) {
            cancel.send(new CancelRequest(key.processId(), secretKey));
            assertThat(cancel.closedByServer(5000)).as("the instance closes a cancel connection").isTrue();
        }
    }

    @Test
    void aCancelSentThroughAnotherInstanceCancelsTheStatement() throws Exception {
        TestProxy a = proxies.get(0);
        TestProxy b = proxies.get(1);
        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(100))
                .until(() -> slotOf(a, b) != null && slotOf(b, a) != null);
        assertThat(slotOf(a, b)).as("two live instances never share a slot").isNotEqualTo(slotOf(b, a));
        double sentBefore = forwarded(b, "sent");
        try (RawPgClient session = new RawPgClient(a.host(), a.port())) {
            session.socket().setSoTimeout(15_000);
            Key key = login(session);
            assertThat(IssuedProcessIds.slotOf(key.processId())).as("the key names the issuing instance's slot")
                    .isEqualTo(slotOf(a, b));

            session.send(new Query("SELECT pg_sleep(30)"));
            Thread.sleep(500);
            // A wrong secret is forwarded as well (only the issuer knows the secret), and cancels nothing.
            sendCancel(b, key, key.secretKey() + 1);
            Thread.sleep(1000);
            assertThat(session.input().available()).as("no reply: the statement still runs").isZero();

            long t0 = System.nanoTime();
            sendCancel(b, key, key.secretKey());
            ErrorResponse error = session.readError();
            long millis = (System.nanoTime() - t0) / 1_000_000;
            System.out.printf("CrossInstanceCancelIT: a cancel sent through the other instance ended the statement "
                    + "%d ms later%n", millis);
            assertThat(error.sqlState()).as(error.toString()).isEqualTo("57014");
            assertThat(millis).isLessThan(5000);
            assertThat(session.readUntil('Z').type()).isEqualTo('Z');

            // The session goes on.
            session.send(new Query("SELECT 1"));
            assertThat(session.readUntil('D').firstText()).isEqualTo("1");
            session.readUntil('Z');
        }
        // counted once written, which may be a moment after the issuer acted on it
        await().atMost(Duration.ofSeconds(3)).untilAsserted(() ->
                assertThat(forwarded(b, "sent") - sentBefore).as("cancels b forwarded").isEqualTo(2.0));
        assertThat(forwarded(b, "failed")).isZero();
    }

    /**
     * pgjdbc behind a round-robin balancer: its session lands on A, its {@code Statement.cancel()}
     * (a new connection) on B, as behind HAProxy or a Kubernetes Service.
     */
    @Test
    void aDriversCancelThroughARoundRobinBalancerReachesTheSession() throws Exception {
        TestProxy a = proxies.get(0);
        TestProxy b = proxies.get(1);
        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(100))
                .until(() -> slotOf(a, b) != null && slotOf(b, a) != null);
        double sentBefore = forwarded(b, "sent");
        try (RoundRobinBalancer balancer = new RoundRobinBalancer(List.of(
                new InetSocketAddress(a.host(), a.port()), new InetSocketAddress(b.host(), b.port())))) {
            Properties props = new Properties();
            props.setProperty("user", "app");
            props.setProperty("password", "app");
            props.setProperty("sslmode", "disable");
            try (Connection session = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + balancer.port()
                    + "/app", props); Statement statement = session.createStatement()) {
                assertThat(balancer.connections()).as("the session went to the first instance").isEqualTo(1);
                CompletableFuture<String> sleeping = CompletableFuture.supplyAsync(() -> {
                    try {
                        statement.execute("SELECT pg_sleep(30)");
                        return "completed";
                    } catch (SQLException e) {
                        return e.getSQLState();
                    }
                });
                Thread.sleep(500);
                long t0 = System.nanoTime();
                statement.cancel();
                assertThat(sleeping.get(5, TimeUnit.SECONDS)).isEqualTo("57014");
                System.out.printf("CrossInstanceCancelIT: pgjdbc's cancel through the balancer ended the statement "
                        + "%d ms later%n", (System.nanoTime() - t0) / 1_000_000);
                assertThat(balancer.connections()).as("the cancel went to the second instance").isEqualTo(2);
                try (ResultSet rs = statement.executeQuery("SELECT 1")) {
                    assertThat(rs.next()).isTrue();
                }
            }
        }
        await().atMost(Duration.ofSeconds(3)).untilAsserted(() ->
                assertThat(forwarded(b, "sent") - sentBefore).as("cancels b forwarded").isEqualTo(1.0));
    }

    /**
     * An instance that registers again (its key was deleted: a new lease) keeps its slot, so the keys
     * it issued before still name it; the slot key moved to the new lease survives the old one's revocation.
     */
    @Test
    void anInstanceThatRegistersAgainKeepsItsSlot() throws Exception {
        TestProxy a = proxies.get(0);
        TestProxy b = proxies.get(1);
        await().atMost(Duration.ofSeconds(15)).until(() -> slotOf(a, b) != null);
        int slot = slotOf(a, b);
        String id = selfId(a);
        try (Client client = Client.builder().endpoints(etcd.endpoints().toArray(String[]::new)).build()) {
            ByteSequence memberKey = ByteSequence.from(prefix + "/members/" + id, StandardCharsets.UTF_8);
            long before = client.getKVClient().get(memberKey).get(10, TimeUnit.SECONDS).getKvs().get(0).getLease();
            assertThat(client.getKVClient().delete(memberKey).get(10, TimeUnit.SECONDS).getDeleted()).isEqualTo(1);
            ByteSequence slotKey = ByteSequence.from(prefix + "/slots/" + slot, StandardCharsets.UTF_8);
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                List<KeyValue> kvs = client.getKVClient().get(memberKey).get(10, TimeUnit.SECONDS).getKvs();
                assertThat(kvs).as("registered again").hasSize(1);
                assertThat(kvs.get(0).getLease()).as("under a new lease").isNotEqualTo(before);
                List<KeyValue> slots = client.getKVClient().get(slotKey).get(10, TimeUnit.SECONDS).getKvs();
                assertThat(slots).as("the slot key").hasSize(1);
                assertThat(slots.get(0).getValue().toString(StandardCharsets.UTF_8)).isEqualTo(id);
                assertThat(slots.get(0).getLease()).as("moved to the new lease").isEqualTo(kvs.get(0).getLease());
            });
            Thread.sleep(500); // the old lease's revocation, sent after the new registration, has landed
            assertThat(client.getKVClient().get(slotKey).get(10, TimeUnit.SECONDS).getKvs()).hasSize(1);
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(slotOf(a, b)).isEqualTo(slot));
    }

    @Test
    void aCancelForTheInstanceItselfIsNotForwarded() throws Exception {
        TestProxy a = proxies.get(0);
        await().atMost(Duration.ofSeconds(15)).until(() -> slotOf(a, a) != null);
        double before = forwarded(a, "sent");
        try (RawPgClient session = new RawPgClient(a.host(), a.port())) {
            session.socket().setSoTimeout(15_000);
            Key key = login(session);
            session.send(new Query("SELECT pg_sleep(30)"));
            Thread.sleep(500);
            long t0 = System.nanoTime();
            sendCancel(a, key, key.secretKey());
            assertThat(session.readError().sqlState()).isEqualTo("57014");
            assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(5000);
            session.readUntil('Z');
        }
        // A key of our own slot that no session holds any more: dropped, not sent to ourselves.
        int stale = IssuedProcessIds.draw(slotOf(a, a), new java.util.SplittableRandom());
        sendCancel(a, new Key(stale, 1), 1);
        assertThat(forwarded(a, "sent")).isEqualTo(before);
    }

    private static double forwarded(TestProxy proxy, String result) throws IOException, InterruptedException {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(proxy.adminUri() + "/metrics"))
                .GET().build(), HttpResponse.BodyHandlers.ofString());
        String prefix = "pgrelay_cancels_forwarded_total{result=\"" + result + "\"} ";
        for (String line : response.body().split("\n")) {
            if (line.startsWith(prefix)) {
                return Double.parseDouble(line.substring(prefix.length()).trim());
            }
        }
        throw new AssertionError(prefix + " not in /metrics of " + proxy.adminUri());
    }
}
