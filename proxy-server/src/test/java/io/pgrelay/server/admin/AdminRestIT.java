package io.pgrelay.server.admin;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgrelay.server.testing.TestProxy;
import io.pgrelay.testkit.LocalCluster;
import io.pgrelay.testkit.LocalNode;
import io.pgrelay.testkit.TestCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every admin REST endpoint over real HTTP against a proxy in front of a cluster of its own
 * (the switchover and failover calls move the primary for good): status codes, the bearer
 * token, JSON bodies, the audit log. The primary moves in the last test only.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AdminRestIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOKEN = "test-token";

    private static LocalCluster cluster;
    private static TestProxy proxy;
    private static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void start() {
        cluster = TestCluster.startDedicated();
        proxy = TestProxy.start(cluster, "");
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

    record Reply(int status, JsonNode body, HttpResponse<String> raw) {
    }

    static Reply call(String base, String method, String path, String body, String token) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            request.header("Content-Type", "application/json");
        }
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        JsonNode json = response.body().isEmpty() || !response.headers().firstValue("Content-Type").orElse("")
                .startsWith("application/json") ? null : JSON.readTree(response.body());
        return new Reply(response.statusCode(), json, response);
    }

    static Reply call(String method, String path, String body) throws Exception {
        return call(proxy.adminUri(), method, path, body, TOKEN);
    }

    static JsonNode node(JsonNode cluster, String name) {
        for (JsonNode node : cluster.get("nodes")) {
            if (node.get("name").asText().equals(name)) {
                return node;
            }
        }
        return null;
    }

    static String setting(LocalNode node, String name) throws Exception {
        try (Connection c = node.connect("postgres", "postgres", "postgres"); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT current_setting('" + name + "')")) {
            rs.next();
            return rs.getString(1);
        }
    }

    @Test
    void clusterShowsTopologyModeAndStates() throws Exception {
        Reply reply = call(proxy.adminUri(), "GET", "/api/v1/cluster", null, null);
        assertThat(reply.status()).isEqualTo(200);
        assertThat(reply.raw().headers().firstValue("Content-Type")).hasValue("application/json; charset=utf-8");
        JsonNode body = reply.body();
        assertThat(body.get("primary").asText()).isNotEmpty();
        assertThat(body.get("replicationMode").get("mode").asText()).isIn("async", "semi-sync", "sync");
        assertThat(body.get("splitBrain").asBoolean()).isFalse();
        assertThat(body.get("nodes")).hasSizeGreaterThanOrEqualTo(3);
        assertThat(body.has("proxies")).as("without coordination there is no list of instances").isFalse();
        for (JsonNode node : body.get("nodes")) {
            assertThat(node.get("state").asText()).isIn("up", "down", "lagging", "fenced", "drained");
            assertThat(node.has("lagBytes") && node.has("lagMillis") && node.has("replayLsn")
                    && node.has("timeline") && node.has("connections") && node.has("host") && node.has("port"))
                    .as(node.toString()).isTrue();
        }
    }

    @Test
    void unknownPathsAndMethodsAreJsonErrors() throws Exception {
        Reply missing = call("GET", "/api/v1/nope", null);
        assertThat(missing.status()).isEqualTo(404);
        assertThat(missing.body().get("error").asText()).contains("/api/v1/nope");
        Reply wrongMethod = call("GET", "/api/v1/switchover", null);
        assertThat(wrongMethod.status()).isEqualTo(405);
        assertThat(wrongMethod.raw().headers().firstValue("Allow")).hasValue("POST");
        assertThat(wrongMethod.body().get("error").asText()).contains("not allowed");
        assertThat(call("POST", "/api/v1/cluster", "{}").status()).isEqualTo(405);
        assertThat(call("GET", "/api/v1/nodes/pg2/drain", null).status()).isEqualTo(405);
        assertThat(call("POST", "/api/v1/nodes/pg2/explode", null).status()).isEqualTo(404);
    }

    @Test
    void mutatingCallsNeedTheBearerTokenAndAreAudited() throws Exception {
        Logger audit = (Logger) LoggerFactory.getLogger("io.pgrelay.audit");
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        lines.start();
        audit.addAppender(lines);
        try {
            Reply none = call(proxy.adminUri(), "POST", "/api/v1/nodes/pg3/drain", null, null);
            assertThat(none.status()).isEqualTo(401);
            assertThat(none.raw().headers().firstValue("WWW-Authenticate")).isPresent();
            assertThat(none.body().get("error").asText()).contains("bearer token");
            Reply wrong = call(proxy.adminUri(), "POST", "/api/v1/nodes/pg3/drain", null, "test-tokeN");
            assertThat(wrong.status()).isEqualTo(401);
            assertThat(wrong.body().get("error").asText()).contains("invalid bearer token");
            Reply badBodyNoToken = call(proxy.adminUri(), "PUT", "/api/v1/replication-mode", "{oops", null);
            assertThat(badBodyNoToken.status()).as("authentication comes before body checks").isEqualTo(401);
            assertThat(stateOf("pg3")).isEqualTo("up");

            Reply drained = call("POST", "/api/v1/nodes/pg3/drain", null);
            assertThat(drained.status()).as(drained.body().toString()).isEqualTo(200);
            assertThat(drained.body().get("success").asBoolean()).isTrue();
            assertThat(drained.body().get("steps")).isNotEmpty();
            assertThat(stateOf("pg3")).isEqualTo("drained");
            assertThat(call("POST", "/api/v1/nodes/pg3/enable", null).status()).isEqualTo(200);
            assertThat(stateOf("pg3")).isEqualTo("up");

            List<String> messages = new ArrayList<>();
            lines.list.forEach(e -> messages.add(e.getFormattedMessage()));
            assertThat(messages).hasSize(5);
            assertThat(messages.get(0)).contains("actor=anonymous@127.0.0.1").contains("status=401")
                    .contains("POST /api/v1/nodes/pg3/drain");
            assertThat(messages.get(3)).contains("actor=token-holder@127.0.0.1").contains("status=200")
                    .contains("result=\"ok\"");
        } finally {
            audit.detachAppender(lines);
        }
    }

    @Test
    void withoutAConfiguredTokenMutatingCallsAreForbidden() throws Exception {
        try (TestProxy open = TestProxy.start(cluster, "admin: { listen: 127.0.0.1:0 }\n")) {
            Reply refused = call(open.adminUri(), "POST", "/api/v1/failover", "{}", "anything");
            assertThat(refused.status()).isEqualTo(403);
            assertThat(refused.body().get("error").asText()).contains("no admin.token is configured");
            assertThat(call(open.adminUri(), "GET", "/api/v1/cluster", null, null).status()).isEqualTo(200);
        }
    }

    @Test
    void badBodiesAreRejected() throws Exception {
        assertThat(call("PUT", "/api/v1/replication-mode", "{not json").status()).isEqualTo(400);
        assertThat(call("PUT", "/api/v1/replication-mode", "[1]").status()).isEqualTo(400);
        Reply unknownField = call("PUT", "/api/v1/replication-mode", "{\"mode\":\"sync\",\"ack\":1}");
        assertThat(unknownField.status()).isEqualTo(400);
        assertThat(unknownField.body().get("error").asText()).contains("unknown field \"ack\"");
        assertThat(call("PUT", "/api/v1/replication-mode", "{\"mode\":\"fast\"}").status()).isEqualTo(400);
        assertThat(call("PUT", "/api/v1/replication-mode", "{\"acks\":1}").status()).isEqualTo(400);
        assertThat(call("PUT", "/api/v1/replication-mode", "{\"mode\":\"semi-sync\",\"acks\":\"two\"}").status())
                .isEqualTo(400);
        assertThat(call("POST", "/api/v1/switchover", "{\"candidate\":7}").status()).isEqualTo(400);
        assertThat(call("POST", "/api/v1/nodes", "{\"name\":\"x\"}").status()).isEqualTo(400);
        assertThat(call("POST", "/api/v1/nodes", "{\"name\":\"x\",\"host\":\"127.0.0.1\",\"port\":70000}").status())
                .isEqualTo(400);
        assertThat(call("POST", "/api/v1/nodes/pg2/fence", "{\"force\":true}").status()).isEqualTo(400);
    }

    @Test
    void nodeCallsOnUnknownNodesAndOnThePrimary() throws Exception {
        String primary = call("GET", "/api/v1/cluster", null).body().get("primary").asText();
        for (String action : List.of("drain", "enable", "fence", "unfence")) {
            Reply reply = call("POST", "/api/v1/nodes/ghost/" + action, null);
            assertThat(reply.status()).as(action).isEqualTo(404);
            assertThat(reply.body().get("error").asText()).contains("ghost");
        }
        assertThat(call("DELETE", "/api/v1/nodes/ghost", null).status()).isEqualTo(404);
        assertThat(call("POST", "/api/v1/nodes/" + primary + "/drain", null).status()).isEqualTo(409);
        assertThat(call("POST", "/api/v1/nodes/" + primary + "/fence", null).status()).isEqualTo(409);
        assertThat(call("DELETE", "/api/v1/nodes/" + primary, null).status()).isEqualTo(409);
        assertThat(call("POST", "/api/v1/switchover", "{\"candidate\":\"ghost\"}").status()).isEqualTo(404);
        assertThat(call("POST", "/api/v1/failover", "{\"candidate\":\"" + primary + "\"}").status())
                .isEqualTo(409);
    }

    @Test
    void fenceAndUnfenceAReplica() throws Exception {
        Reply fenced = call("POST", "/api/v1/nodes/pg2/fence", null);
        assertThat(fenced.status()).as(fenced.body().toString()).isEqualTo(200);
        assertThat(stateOf("pg2")).isEqualTo("fenced");
        Thread.sleep(600); // a few monitor probes (every 250 ms) must not undo the fence
        assertThat(stateOf("pg2")).isEqualTo("fenced");
        assertThat(call("POST", "/api/v1/nodes/pg2/drain", null).status()).as("drain a fenced node").isEqualTo(409);
        Reply unfenced = call("POST", "/api/v1/nodes/pg2/unfence", null);
        assertThat(unfenced.status()).isEqualTo(200);
        assertThat(stateOf("pg2")).isEqualTo("up");
    }

    @Test
    void addAndRemoveANode() throws Exception {
        LocalNode pg3 = cluster.node("pg3");
        String add = "{\"name\":\"pg3-alias\",\"host\":\"" + pg3.host() + "\",\"port\":" + pg3.port()
                + ",\"weight\":2}";
        Reply added = call("POST", "/api/v1/nodes", add);
        assertThat(added.status()).as(added.body().toString()).isEqualTo(200);
        JsonNode node = node(call("GET", "/api/v1/cluster", null).body(), "pg3-alias");
        assertThat(node).isNotNull();
        assertThat(node.get("role").asText()).isEqualTo("replica");
        assertThat(node.get("state").asText()).isEqualTo("up");
        assertThat(node.get("weight").asInt()).isEqualTo(2);
        assertThat(call("POST", "/api/v1/nodes", add).status()).as("duplicate name").isEqualTo(409);

        // reads through the proxy keep working with the longer node list
        try (Connection c = proxy.connect(); Statement st = c.createStatement()) {
            for (int i = 0; i < 20; i++) {
                try (ResultSet rs = st.executeQuery("SELECT 1")) {
                    assertThat(rs.next()).isTrue();
                }
            }
        }

        Reply removed = call("DELETE", "/api/v1/nodes/pg3-alias", null);
        assertThat(removed.status()).as(removed.body().toString()).isEqualTo(200);
        assertThat(node(call("GET", "/api/v1/cluster", null).body(), "pg3-alias")).isNull();
        assertThat(call("DELETE", "/api/v1/nodes/pg3-alias", null).status()).isEqualTo(404);
    }

    @Test
    void replicationModes() throws Exception {
        String primaryName = call("GET", "/api/v1/cluster", null).body().get("primary").asText();
        LocalNode primary = cluster.node(primaryName);
        try {
            Reply semi = call("PUT", "/api/v1/replication-mode", "{\"mode\":\"semi-sync\",\"acks\":1}");
            assertThat(semi.status()).as(semi.body().toString()).isEqualTo(200);
            assertThat(setting(primary, "synchronous_standby_names")).startsWith("ANY 1 (");
            JsonNode mode = call("GET", "/api/v1/cluster", null).body().get("replicationMode");
            assertThat(mode.get("mode").asText()).isEqualTo("semi-sync");
            assertThat(mode.get("acks").asInt()).isEqualTo(1);
            assertThat(call("GET", "/api/v1/replication-mode", null).body().get("mode").asText())
                    .isEqualTo("semi-sync");

            Reply sync = call("PUT", "/api/v1/replication-mode", "{\"mode\":\"sync\"}");
            assertThat(sync.status()).isEqualTo(200);
            assertThat(setting(primary, "synchronous_standby_names")).isEqualTo("FIRST 2 (\"pg2\", \"pg3\")"
                    .replace("pg2", other(primaryName, 0)).replace("pg3", other(primaryName, 1)));
            try (Connection c = proxy.connect(); Statement st = c.createStatement()) {
                st.execute("CREATE TABLE IF NOT EXISTS rest_sync (v int)");
                st.execute("INSERT INTO rest_sync VALUES (1)"); // commits: both standbys confirm
            }
            assertThat(call("PUT", "/api/v1/replication-mode", "{\"mode\":\"semi-sync\",\"acks\":3}").status())
                    .as("more acks than replicas").isEqualTo(409);
        } finally {
            Reply async = call("PUT", "/api/v1/replication-mode", "{\"mode\":\"async\"}");
            assertThat(async.status()).isEqualTo(200);
        }
        assertThat(setting(primary, "synchronous_standby_names")).isEmpty();
    }

    /** The other node names than {@code primary}, sorted. */
    private static String other(String primary, int i) {
        List<String> names = new ArrayList<>(List.of("pg1", "pg2", "pg3"));
        names.remove(primary);
        return names.get(i);
    }

    @Test
    @Order(Integer.MAX_VALUE)
    void switchoverThenFailoverMoveThePrimary() throws Exception {
        Reply before = call("GET", "/api/v1/cluster", null);
        String oldPrimary = before.body().get("primary").asText();
        String candidate = other(oldPrimary, 0);

        // two operations at once: one runs, the other gets 409. The probing call may win the
        // lock first, in which case the switchover itself got the 409: try again.
        Reply switched = null;
        Reply second = null;
        for (int attempt = 0; attempt < 5 && (switched == null || switched.status() == 409); attempt++) {
            CompletableFuture<Reply> first = CompletableFuture.supplyAsync(() -> unchecked(
                    () -> call("POST", "/api/v1/switchover", "{\"candidate\":\"" + candidate + "\"}")));
            Thread.sleep(20L * attempt);
            while (!first.isDone()) {
                Reply r = call("POST", "/api/v1/nodes/" + other(oldPrimary, 1) + "/enable", null);
                if (r.status() == 409) {
                    second = r;
                    break;
                }
            }
            switched = first.get();
        }
        assertThat(switched.status()).as(switched.body().toString()).isEqualTo(200);
        assertThat(second).as("a call during the switchover is refused").isNotNull();
        assertThat(second.body().get("error").asText()).contains("another cluster operation");

        JsonNode body = switched.body();
        assertThat(body.get("operation").asText()).isEqualTo("switchover");
        List<String> steps = new ArrayList<>();
        body.get("steps").forEach(s -> steps.add(s.get("name").asText() + " = " + s.get("outcome").asText()));
        assertThat(steps).anyMatch(s -> s.startsWith("promote " + candidate + " = ok"));
        assertThat(steps).anyMatch(s -> s.startsWith("writes paused"));
        JsonNode after = body.get("cluster");
        assertThat(after.get("primary").asText()).isEqualTo(candidate);
        assertThat(node(after, oldPrimary).get("state").asText()).isEqualTo("fenced");
        LocalNode third = cluster.node(other(oldPrimary, 1));
        waitUntil(() -> third.isStreamingFrom(cluster.node(candidate)), "the other replica streams from "
                + candidate);

        Reply failedOver = call("POST", "/api/v1/failover", "{\"candidate\":\"" + third.name() + "\"}");
        assertThat(failedOver.status()).as(failedOver.body().toString()).isEqualTo(200);
        assertThat(failedOver.body().get("cluster").get("primary").asText()).isEqualTo(third.name());
        assertThat(node(failedOver.body().get("cluster"), candidate).get("state").asText()).isEqualTo("fenced");
        try (Connection c = proxy.connect(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS rest_after_failover (v int)");
            st.execute("INSERT INTO rest_after_failover VALUES (1)");
        }
        try (Connection c = DriverManager.getConnection(third.jdbcUrl("app"), "postgres", "postgres");
             Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM rest_after_failover")) {
            rs.next();
            assertThat(rs.getInt(1)).isEqualTo(1);
        }
    }

    private String stateOf(String name) throws Exception {
        return node(call("GET", "/api/v1/cluster", null).body(), name).get("state").asText();
    }

    interface Call<T> {
        T get() throws Exception;
    }

    static <T> T unchecked(Call<T> call) {
        try {
            return call.get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static void waitUntil(Call<Boolean> condition, String what) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.get()) {
            assertThat(System.nanoTime()).as("timed out waiting: " + what).isLessThan(deadline);
            Thread.sleep(50);
        }
    }
}
