package io.pgrelay.server.security;

import io.netty.handler.ssl.util.SelfSignedCertificate;
import io.pgrelay.core.net.ReloadingServerTls;
import io.pgrelay.server.testing.TestProxy;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The client-facing certificate is replaced without a restart: pgrelay watches the files, new
 * pgjdbc connections verify against the new certificate's root while a connection opened
 * before keeps working, and files that do not load change nothing.
 */
class TlsReloadIT {
    @TempDir
    static Path dir;
    private static Path cert;
    private static Path key;
    private static SelfSignedCertificate certA;
    private static SelfSignedCertificate certB;
    private static TestProxy proxy;

    @BeforeAll
    static void start() throws Exception {
        certA = new SelfSignedCertificate("pgrelay-a.test");
        certB = new SelfSignedCertificate("pgrelay-b.test");
        cert = dir.resolve("server.crt");
        key = dir.resolve("server.key");
        install(certA.certificate().toPath(), certA.privateKey().toPath());
        proxy = TestProxy.start("tls: { mode: require, cert: " + cert + ", key: " + key
                + ", reload-interval: 200ms }\n");
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
        certA.delete();
        certB.delete();
    }

    /** Replaces the files as a deployment would: write aside, then rename over. */
    private static void install(Path certSource, Path keySource) throws IOException {
        Path certTemp = dir.resolve("server.crt.new");
        Path keyTemp = dir.resolve("server.key.new");
        Files.copy(certSource, certTemp, StandardCopyOption.REPLACE_EXISTING);
        Files.copy(keySource, keyTemp, StandardCopyOption.REPLACE_EXISTING);
        Files.move(keyTemp, key, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        Files.move(certTemp, cert, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** A connection that verifies the server's certificate against {@code root} (sslmode=verify-ca). */
    private static Connection verifying(SelfSignedCertificate root) throws SQLException {
        Properties props = new Properties();
        props.setProperty("sslmode", "verify-ca");
        props.setProperty("sslrootcert", root.certificate().getAbsolutePath());
        return proxy.connect("app", "app", "app", props);
    }

    private static String query(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    @Test
    void aReplacedCertificateServesNewConnectionsAndOldOnesStay() throws Exception {
        try (Connection old = verifying(certA)) {
            assertThat(query(old, "SELECT 'on A'")).isEqualTo("on A");
            assertThatThrownBy(() -> verifying(certB).close()).as("B is not served yet").isInstanceOf(SQLException.class);

            install(certB.certificate().toPath(), certB.privateKey().toPath());

            await().atMost(Duration.ofSeconds(20)).ignoreExceptions().untilAsserted(() -> {
                try (Connection fresh = verifying(certB)) {
                    assertThat(query(fresh, "SELECT 'on B'")).isEqualTo("on B");
                }
            });
            assertThatThrownBy(() -> verifying(certA).close()).as("A is no longer served").isInstanceOf(SQLException.class);
            assertThat(query(old, "SELECT 'still on A'")).isEqualTo("still on A");

            // Files that do not load leave B in place, whether found by the watcher or by a forced reload.
            Files.writeString(key, "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n");
            ReloadingServerTls.Result garbage = proxy.relay().proxy().reloadTls();
            assertThat(garbage.outcome()).isEqualTo(ReloadingServerTls.Outcome.FAILED);
            install(certA.certificate().toPath(), certB.privateKey().toPath()); // A's certificate, B's key
            ReloadingServerTls.Result mismatch = proxy.relay().proxy().reloadTls();
            assertThat(mismatch.outcome()).isEqualTo(ReloadingServerTls.Outcome.FAILED);
            assertThat(mismatch.detail()).contains("does not belong to the certificate");
            Thread.sleep(600); // several watcher rounds
            try (Connection stillB = verifying(certB)) {
                assertThat(query(stillB, "SELECT 'B kept'")).isEqualTo("B kept");
            }
            assertThat(query(old, "SELECT 'A still'")).isEqualTo("A still");

            // A valid pair again, loaded on demand (as SIGHUP / POST /api/v1/reload would).
            install(certA.certificate().toPath(), certA.privateKey().toPath());
            ReloadingServerTls.Result back = proxy.relay().proxy().reloadTls();
            assertThat(back.outcome()).isIn(ReloadingServerTls.Outcome.RELOADED, ReloadingServerTls.Outcome.UNCHANGED);
            try (Connection onA = verifying(certA)) {
                assertThat(query(onA, "SELECT 'A again'")).isEqualTo("A again");
            }
        }
    }
}
