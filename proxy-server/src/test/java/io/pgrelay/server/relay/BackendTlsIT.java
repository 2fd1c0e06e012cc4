package io.pgrelay.server.relay;

import io.pgrelay.server.testing.AdminClient;
import io.pgrelay.server.testing.TestPki;
import io.pgrelay.server.testing.TestProxy;
import io.pgrelay.testkit.ClusterUser;
import io.pgrelay.testkit.LocalCluster;
import io.pgrelay.testkit.ServerTls;
import io.pgrelay.testkit.TestCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * TLS from pgrelay to PostgreSQL as libpq's sslmode does it, against a one-node cluster whose
 * certificates a test CA makes at start (no key is committed): the server's names the IP
 * address 127.0.0.1, which is the node's {@code host} in the proxy's configuration, and role
 * {@value #CERT_USER} logs in with a client certificate only ({@code hostssl ... cert}).
 * Clients connect through the proxy with pgjdbc, in plain text: only the proxy's side to the
 * server is under test.
 */
class BackendTlsIT {
    private static final String CERT_USER = "certuser";
    private static final String USERS = """
            auth:
              users:
                - { name: app, password: app }
                - { name: postgres, password: postgres }
                - { name: certuser, password: cert-client-pw }
            """;
    /** A hang would show as this connect timeout; a refused certificate must be told much sooner. */
    private static final String SLOW_TIMEOUT = "connect-timeout: 20s";
    private static final long PROMPT_MILLIS = 5_000;
    private static final String OWN_TLS = "SELECT ssl, coalesce(client_dn, '') FROM pg_stat_ssl "
            + "WHERE pid = pg_backend_pid()";

    private static TestPki.Issued ca;
    private static TestPki.Issued otherCa;
    private static TestPki.Issued serverCertificate;
    private static LocalCluster cluster;
    private static Path files;

    private TestProxy proxy;
    private final List<Connection> open = new ArrayList<>();

    @BeforeAll
    static void startTlsCluster() throws IOException {
        ca = TestPki.ca("pgrelay test CA");
        otherCa = TestPki.ca("another CA");
        serverCertificate = TestPki.server(ca, "pgrelay test server", "127.0.0.1");
        cluster = TestCluster.startDedicated(builder -> builder.replicas(0)
                .user(ClusterUser.scram(CERT_USER, "not-used-by-cert-auth"))
                .serverTls(new ServerTls(serverCertificate.certificatePem(), serverCertificate.keyPem(),
                        ca.certificatePem(), List.of(CERT_USER))));
        files = Files.createTempDirectory("backend-tls-");
        Files.writeString(files.resolve("ca.pem"), ca.certificatePem());
        Files.writeString(files.resolve("other-ca.pem"), otherCa.certificatePem());
    }

    @AfterAll
    static void stopCluster() throws IOException {
        if (cluster != null) {
            cluster.close();
        }
        if (files != null) {
            try (Stream<Path> paths = Files.walk(files)) {
                for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(path);
                }
            }
        }
    }

    @AfterEach
    void stopProxy() throws SQLException {
        for (Connection c : open) {
            c.close();
        }
        open.clear();
        if (proxy != null) {
            proxy.close();
            proxy = null;
        }
    }

    private void startProxy(String backendKeys) {
        proxy = TestProxy.start(cluster, "backend: { " + backendKeys + " }\n" + USERS);
    }

    private Connection connect(String user, String password) throws SQLException {
        Connection c = proxy.connect("app", user, password, new Properties());
        open.add(c);
        return c;
    }

    /** Whether the server sees its side of the connection encrypted, and the client certificate's DN. */
    private static String[] ownTls(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(OWN_TLS)) {
            assertThat(rs.next()).isTrue();
            return new String[] {rs.getString(1), rs.getString(2)};
        }
    }

    private static int backendPid(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /** Refused promptly with a connection-failure SQLSTATE, the message saying why. */
    private void assertRefused(String user, String password, String sqlStatePrefix, String why) {
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> connect(user, password)).isInstanceOf(SQLException.class)
                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).as(e.getMessage())
                        .startsWith(sqlStatePrefix))
                .hasMessageContaining(why);
        assertThat((System.nanoTime() - t0) / 1_000_000).as("refused without waiting").isLessThan(PROMPT_MILLIS);
    }

    private AdminClient.Reply reload() {
        return new AdminClient(proxy).call("POST", "/api/v1/reload", null);
    }

    private static Path file(String name) {
        return files.resolve(name);
    }

    @Test
    void requireEncryptsWithoutCheckingTheCertificate() throws SQLException {
        startProxy("tls: require");

        assertThat(ownTls(connect("app", "app"))[0]).as("the backend connection uses TLS").isEqualTo("t");
    }

    @Test
    void verifyFullAcceptsACertificateNamingTheNodesIpAddress() throws SQLException {
        startProxy("tls: verify-full, tls-ca: " + file("ca.pem"));

        assertThat(ownTls(connect("app", "app"))[0]).isEqualTo("t");
    }

    @Test
    void verifyFullRefusesACertificateForAnotherNameButVerifyCaTakesIt() throws SQLException {
        TestPki.Issued elsewhere = TestPki.server(ca, "db.elsewhere.test", "db.elsewhere.test");
        cluster.primary().serveCertificate(elsewhere.certificatePem(), elsewhere.keyPem());
        try {
            startProxy("tls: verify-full, tls-ca: " + file("ca.pem") + ", " + SLOW_TIMEOUT);
            assertRefused("app", "app", "08", "No subject alternative names matching IP address 127.0.0.1");
            proxy.close();

            startProxy("tls: verify-ca, tls-ca: " + file("ca.pem"));
            assertThat(ownTls(connect("app", "app"))[0]).as("verify-ca checks the CA, not the name").isEqualTo("t");
        } finally {
            cluster.primary().serveCertificate(serverCertificate.certificatePem(), serverCertificate.keyPem());
        }
    }

    @Test
    void verifyCaRefusesAServerSignedByAnotherCa() {
        startProxy("tls: verify-ca, tls-ca: " + file("other-ca.pem") + ", " + SLOW_TIMEOUT);

        assertRefused("app", "app", "08", "failed under backend.tls verify-ca");
    }

    @Test
    void aClientCertificateLogsInWhereTheServerAsksForOne() throws SQLException {
        TestPki.client(ca, CERT_USER).writeTo(file("client.crt"), file("client.key"));
        startProxy("tls: verify-full, tls-ca: " + file("ca.pem") + ", tls-cert: " + file("client.crt")
                + ", tls-key: " + file("client.key"));

        Connection c = connect(CERT_USER, "cert-client-pw");
        assertThat(ownTls(c)[1]).contains("CN=" + CERT_USER);
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT current_user")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo(CERT_USER);
        }
    }

    @Test
    void withoutAClientCertificateTheServerRefusesTheLogin() {
        startProxy("tls: verify-full, tls-ca: " + file("ca.pem"));

        assertRefused(CERT_USER, "cert-client-pw", "28000", "certificate");
    }

    @Test
    void aReloadSwapsTheCaAndClientCertificateForNewBackendConnectionsOnly() throws Exception {
        Path caFile = file("reload-ca.pem");
        Path cert = file("reload-client.crt");
        Path key = file("reload-client.key");
        Files.writeString(caFile, otherCa.certificatePem());
        TestPki.client(otherCa, CERT_USER).writeTo(cert, key);
        startProxy("tls: verify-full, tls-ca: " + caFile + ", tls-cert: " + cert + ", tls-key: " + key
                + ", " + SLOW_TIMEOUT);
        assertRefused("app", "app", "08", "failed under backend.tls verify-full");

        Files.writeString(caFile, ca.certificatePem()); // renewed in place: same paths, new content
        AdminClient.Reply trustTheRightCa = reload();
        assertThat(trustTheRightCa.status()).as(trustTheRightCa.body().toString()).isEqualTo(200);
        assertThat(trustTheRightCa.body().get("applied").toString()).contains("backend.tls");
        Connection before = connect("app", "app");
        before.setAutoCommit(false);
        int pidBefore = backendPid(before);
        assertThat(ownTls(before)[0]).isEqualTo("t");
        // The server does not trust the other CA's client certificate.
        assertRefused(CERT_USER, "cert-client-pw", "28000", "certificate");

        TestPki.client(ca, CERT_USER).writeTo(cert, key);
        AdminClient.Reply newClientCertificate = reload();
        assertThat(newClientCertificate.status()).as(newClientCertificate.body().toString()).isEqualTo(200);
        assertThat(newClientCertificate.body().get("applied").toString()).contains("backend.tls");
        assertThat(ownTls(connect(CERT_USER, "cert-client-pw"))[1]).contains("CN=" + CERT_USER);
        assertThat(backendPid(before)).as("the open session keeps its backend connection").isEqualTo(pidBefore);
        before.commit();

        Files.writeString(key, "not a key");
        AdminClient.Reply broken = reload();
        assertThat(broken.status()).isEqualTo(400);
        assertThat(broken.body().get("error").asText()).startsWith("backend.tls");
        assertThat(ownTls(connect("app", "app"))[0]).as("a bad key changes nothing").isEqualTo("t");
    }
}
