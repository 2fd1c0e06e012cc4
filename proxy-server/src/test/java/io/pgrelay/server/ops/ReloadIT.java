package io.pgrelay.server.ops;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgrelay.server.testing.AdminClient;
import io.pgrelay.server.testing.TestProxy;
import io.pgrelay.testkit.LocalNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * {@code POST /api/v1/reload} with real clients connected: reloadable keys take effect for new
 * sessions while existing sessions keep working, restart-only keys are reported, an invalid
 * file changes nothing. (SIGHUP to a real process: {@link ProcessLifecycleIT}.)
 */
class ReloadIT {
    private static final String ALIAS = "    - { name: alias, password: alias-pw, backend-user: app, backend-password: app }\n";
    private static final String USERS = """
            auth:
              users:
                - { name: app, password: app }
                - { name: postgres, password: postgres }
            """;

    /** Which server ran the read. */
    private static final String WHERE = "SELECT current_setting('port')::int";

    private TestProxy proxy;
    private final List<Connection> open = new ArrayList<>();

    @AfterEach
    void stop() throws SQLException {
        for (Connection c : open) {
            c.close();
        }
        if (proxy != null) {
            proxy.close();
        }
    }

    private Connection connect(String user, String password) throws SQLException {
        Connection c = proxy.connect("app", user, password, new Properties());
        open.add(c);
        return c;
    }

    private static Object query(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getObject(1);
        }
    }

    private AdminClient.Reply reload() {
        return new AdminClient(proxy).call("POST", "/api/v1/reload", null);
    }

    private static List<String> appliedKeys(JsonNode body) {
        List<String> keys = new ArrayList<>();
        body.get("applied").forEach(n -> keys.add(n.get("key").asText()));
        return keys;
    }

    private static List<String> restartKeys(JsonNode body) {
        List<String> keys = new ArrayList<>();
        body.get("restartRequired").forEach(n -> keys.add(n.asText()));
        return keys;
    }

    @Test
    void aUserAddedToTheFileLogsInWhileOpenSessionsCarryOn() throws SQLException {
        proxy = TestProxy.start(USERS);
        Connection before = connect("app", "app");
        before.setAutoCommit(false);
        query(before, "SELECT txid_current()");
        assertThatThrownBy(() -> connect("alias", "alias-pw")).isInstanceOf(SQLException.class)
                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28P01"));

        proxy.rewriteConfig(USERS + ALIAS);
        AdminClient.Reply reply = reload();

        assertThat(reply.status()).as(reply.body().toString()).isEqualTo(200);
        assertThat(reply.body().get("changed").asBoolean()).isTrue();
        assertThat(reply.body().get("applied").toString()).contains("auth.users").contains("added alias")
                .doesNotContain("alias-pw");
        assertThat(restartKeys(reply.body())).isEmpty();
        assertThat(query(connect("alias", "alias-pw"), "SELECT current_user")).isEqualTo("app");
        // The session opened before the reload is still in its transaction.
        assertThat(query(before, "SELECT count(*) FROM pg_stat_activity WHERE pid = pg_backend_pid()"
                + " AND state = 'active' AND backend_xid IS NOT NULL")).isEqualTo(1L);
        before.commit();
    }

    @Test
    void aRoutingChangeSteersNewSessionsOnly() throws SQLException {
        proxy = TestProxy.start("");
        int primaryPort = proxy.cluster().primary().port();
        Connection before = connect("app", "app");
        await().atMost(Duration.ofSeconds(30)).until(() -> !query(before, WHERE).equals(primaryPort));

        proxy.rewriteConfig("routing: { reads-to-replicas: false }\n");
        AdminClient.Reply reply = reload();

        assertThat(reply.status()).as(reply.body().toString()).isEqualTo(200);
        assertThat(appliedKeys(reply.body())).containsExactly("routing.reads-to-replicas");
        Connection after = connect("app", "app");
        for (int i = 0; i < 10; i++) {
            assertThat(query(after, WHERE)).as("read %d of a new session", i).isEqualTo(primaryPort);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> !query(before, WHERE).equals(primaryPort));
    }

    @Test
    void aLowerConnectionLimitRefusesNewClientsAndKeepsTheOpenOnes() throws SQLException {
        proxy = TestProxy.start("");
        List<Connection> three = List.of(connect("app", "app"), connect("app", "app"), connect("app", "app"));

        proxy.rewriteConfig("max-client-connections: 2\n");
        AdminClient.Reply reply = reload();

        assertThat(reply.status()).as(reply.body().toString()).isEqualTo(200);
        assertThat(reply.body().get("applied").toString()).contains("max-client-connections")
                .contains("1000 -> 2");
        for (Connection c : three) {
            assertThat(query(c, "SELECT 1")).isEqualTo(1);
        }
        assertThatThrownBy(() -> connect("app", "app")).isInstanceOf(SQLException.class)
                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("53300"));

        proxy.rewriteConfig("max-client-connections: 10\n");
        assertThat(reload().status()).isEqualTo(200);
        assertThat(query(connect("app", "app"), "SELECT 1")).isEqualTo(1);
    }

    @Test
    void connectionLimitsReloadAndKeepCountingTheClientsAlreadyIn() throws SQLException {
        proxy = TestProxy.start("limits: { users: { app: 1 } }\n");
        Connection first = connect("app", "app");
        assertThatThrownBy(() -> connect("app", "app")).isInstanceOf(SQLException.class)
                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("53300"));

        // Another limit changes: the user's count must survive the reload, else every reload
        // would let each user open its limit once more.
        proxy.rewriteConfig("limits: { users: { app: 1 }, max-connections-per-database: 50 }\n");
        AdminClient.Reply reply = reload();
        assertThat(reply.status()).as(reply.body().toString()).isEqualTo(200);
        assertThat(appliedKeys(reply.body())).containsExactly("limits.max-connections-per-database");
        assertThatThrownBy(() -> connect("app", "app")).as("still one connection of app")
                .isInstanceOf(SQLException.class)
                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("53300"));

        proxy.rewriteConfig("limits: { users: { app: 2 } }\n");
        assertThat(reload().status()).isEqualTo(200);
        assertThat(query(connect("app", "app"), "SELECT 1")).isEqualTo(1);
        assertThatThrownBy(() -> connect("app", "app")).isInstanceOf(SQLException.class)
                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("53300"));
        assertThat(query(first, "SELECT 1")).isEqualTo(1);
    }

    @Test
    void anInvalidFileChangesNothingAndSaysWhy() throws SQLException {
        proxy = TestProxy.start(USERS);
        proxy.rewriteConfig(USERS + ALIAS + "max-client-connections: 1\nrouting: { max-replica-lag: soon }\n");

        AdminClient.Reply reply = reload();

        assertThat(reply.status()).isEqualTo(400);
        assertThat(reply.body().get("error").asText()).contains("routing.max-replica-lag").contains("soon");
        assertThatThrownBy(() -> connect("alias", "alias-pw")).isInstanceOf(SQLException.class);
        assertThat(query(connect("app", "app"), "SELECT 1")).isEqualTo(1);
        assertThat(query(connect("app", "app"), "SELECT 2")).as("the limit is still 1000").isEqualTo(2);

        proxy.writeConfig("nodes: [\n");
        assertThat(reload().status()).isEqualTo(400);
        proxy.rewriteConfig(USERS + "auth-typo: 1\n");
        AdminClient.Reply typo = reload();
        assertThat(typo.status()).isEqualTo(400);
        assertThat(typo.body().get("error").asText()).contains("unknown configuration key 'auth-typo'");
    }

    @Test
    void restartOnlyKeysAreReportedAndKeepTheirRunningValue() {
        proxy = TestProxy.start("");
        proxy.rewriteConfig("pool: { max-size: 7 }\nrouting: { max-replica-lag: 3s }\nworkers: 3\n");

        AdminClient.Reply reply = reload();

        assertThat(reply.status()).as(reply.body().toString()).isEqualTo(200);
        assertThat(restartKeys(reply.body())).containsExactlyInAnyOrder("pool.max-size", "workers");
        assertThat(reply.body().get("applied").toString()).contains("routing.max-replica-lag").contains("10s -> 3s");
        assertThat(proxy.relay().proxy().config().pool().maxSize()).isEqualTo(50);
        assertThat(proxy.relay().proxy().config().routing().maxReplicaLag()).isEqualTo(Duration.ofSeconds(3));

        AdminClient.Reply again = reload();
        assertThat(again.status()).isEqualTo(200);
        assertThat(appliedKeys(again.body())).as("applied once").isEmpty();
        assertThat(restartKeys(again.body())).as("still pending a restart")
                .containsExactlyInAnyOrder("pool.max-size", "workers");
    }

    @Test
    void nodesAreRemovedReweightedAndAddedBack() throws SQLException {
        proxy = TestProxy.start("");
        LocalNode replica = proxy.cluster().replicas().get(1);
        Connection before = connect("app", "app");
        StringBuilder nodes = new StringBuilder("nodes:\n");
        for (LocalNode node : proxy.cluster().nodes()) {
            if (node != replica) {
                nodes.append("  - { name: ").append(node.name()).append(", host: ").append(node.host())
                        .append(", port: ").append(node.port()).append(", weight: 4 }\n");
            }
        }
        proxy.writeConfig(withoutNodes() + nodes);

        AdminClient.Reply reply = reload();

        assertThat(reply.status()).as(reply.body().toString()).isEqualTo(200);
        assertThat(reply.body().get("applied").toString()).contains("removed " + replica.name()).contains("weight 4");
        AdminClient admin = new AdminClient(proxy);
        assertThat(admin.state(replica.name())).isNull();
        for (JsonNode node : admin.cluster().get("nodes")) {
            assertThat(node.get("weight").asInt()).isEqualTo(4);
        }
        assertThat(query(before, "SELECT 1")).isEqualTo(1);

        proxy.rewriteConfig("");
        AdminClient.Reply back = reload();
        assertThat(back.status()).as(back.body().toString()).isEqualTo(200);
        assertThat(back.body().get("applied").toString()).contains("added " + replica.name());
        await().atMost(Duration.ofSeconds(20)).until(() -> "up".equals(admin.state(replica.name())));
    }

    @Test
    void removingThePrimaryIsRefused() {
        proxy = TestProxy.start("");
        LocalNode primary = proxy.cluster().primary();
        StringBuilder nodes = new StringBuilder("nodes:\n");
        for (LocalNode node : proxy.cluster().replicas()) {
            nodes.append("  - { name: ").append(node.name()).append(", host: ").append(node.host())
                    .append(", port: ").append(node.port()).append(" }\n");
        }
        proxy.writeConfig(withoutNodes() + nodes);

        AdminClient.Reply reply = reload();

        assertThat(reply.status()).isEqualTo(400);
        assertThat(reply.body().get("error").asText()).contains(primary.name()).contains("primary");
        assertThat(new AdminClient(proxy).state(primary.name())).isEqualTo("up");
    }

    @Test
    void logLevelsChangeAtOnce() {
        proxy = TestProxy.start("");
        String logger = "io.pgrelay.reload-it";
        assertThat(LoggerFactory.getLogger(logger).isTraceEnabled()).isFalse();

        proxy.rewriteConfig("log-levels: { " + logger + ": trace }\n");
        assertThat(reload().status()).isEqualTo(200);
        assertThat(LoggerFactory.getLogger(logger).isTraceEnabled()).isTrue();

        proxy.rewriteConfig("");
        assertThat(reload().status()).isEqualTo(200);
        assertThat(LoggerFactory.getLogger(logger).isTraceEnabled()).isFalse();
    }

    @Test
    void aRenewedCertificateIsServedToNewHandshakes() throws Exception {
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("reload-tls-");
        java.nio.file.Path cert = dir.resolve("server.crt");
        java.nio.file.Path key = dir.resolve("server.key");
        String first = writeCertificate("first.pgrelay.test", cert, key);
        proxy = TestProxy.start("tls: { mode: prefer, cert: " + cert + ", key: " + key + " }\n");
        assertThat(serverCertificateSubject()).contains(first);
        Properties tls = new Properties();
        tls.setProperty("sslmode", "require");
        Connection before = proxy.connect("app", "app", "app", tls);
        open.add(before);

        String second = writeCertificate("second.pgrelay.test", cert, key); // renewed in place: same paths
        AdminClient.Reply reply = reload();

        assertThat(reply.status()).as(reply.body().toString()).isEqualTo(200);
        assertThat(appliedKeys(reply.body())).containsExactly("tls");
        assertThat(serverCertificateSubject()).contains(second);
        assertThat(query(before, "SELECT 1")).as("the session over the old certificate carries on").isEqualTo(1);

        java.nio.file.Files.writeString(key, "not a key");
        AdminClient.Reply broken = reload();
        assertThat(broken.status()).isEqualTo(400);
        assertThat(broken.body().get("error").asText()).startsWith("tls");
        assertThat(serverCertificateSubject()).as("a bad key changes nothing").contains(second);
    }

    /** Writes a self-signed certificate for {@code name} and its key; returns the name. */
    private static String writeCertificate(String name, java.nio.file.Path cert, java.nio.file.Path key)
            throws Exception {
        io.netty.handler.ssl.util.SelfSignedCertificate generated = new io.netty.handler.ssl.util.SelfSignedCertificate(name);
        java.nio.file.Files.copy(generated.certificate().toPath(), cert, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        java.nio.file.Files.copy(generated.privateKey().toPath(), key, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        generated.delete();
        return name;
    }

    /** SSLRequest, then a TLS handshake that trusts anything: the subject of the certificate the proxy shows. */
    private String serverCertificateSubject() throws Exception {
        try (java.net.Socket plain = new java.net.Socket(proxy.host(), proxy.port())) {
            plain.setSoTimeout(10_000);
            java.io.DataOutputStream out = new java.io.DataOutputStream(plain.getOutputStream());
            out.writeInt(8);
            out.writeInt(80877103);
            out.flush();
            assertThat(plain.getInputStream().read()).as("SSLRequest answer").isEqualTo('S');
            javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
            context.init(null, io.netty.handler.ssl.util.InsecureTrustManagerFactory.INSTANCE.getTrustManagers(), null);
            try (javax.net.ssl.SSLSocket tls = (javax.net.ssl.SSLSocket) context.getSocketFactory()
                    .createSocket(plain, proxy.host(), proxy.port(), false)) {
                tls.startHandshake();
                return ((java.security.cert.X509Certificate) tls.getSession().getPeerCertificates()[0])
                        .getSubjectX500Principal().getName();
            }
        }
    }

    @Test
    void reloadNeedsTheToken() {
        proxy = TestProxy.start("");
        java.net.http.HttpRequest request = java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create(proxy.adminUri() + "/api/v1/reload"))
                .POST(java.net.http.HttpRequest.BodyPublishers.noBody()).build();
        try {
            int status = java.net.http.HttpClient.newHttpClient()
                    .send(request, java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode();
            assertThat(status).isEqualTo(401);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** The test configuration without its nodes list (the base YAML lists every node of the cluster). */
    private String withoutNodes() {
        try {
            String yaml = java.nio.file.Files.readString(proxy.configFile());
            StringBuilder kept = new StringBuilder();
            boolean inNodes = false;
            for (String line : yaml.split("\n")) {
                if (line.startsWith("nodes:")) {
                    inNodes = true;
                    continue;
                }
                if (inNodes && line.startsWith("  - ")) {
                    continue;
                }
                inNodes = false;
                kept.append(line).append('\n');
            }
            return kept.toString();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
