package io.pgrelay.server.relay;

import io.netty.handler.ssl.util.SelfSignedCertificate;
import io.pgrelay.server.testing.TestProxy;
import io.pgrelay.testkit.LocalNode;
import io.pgrelay.testkit.TestCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code backend.tls: require}: pgrelay encrypts its own connections to PostgreSQL. */
class BackendTlsIT {
    private static TestProxy proxy;

    @BeforeAll
    static void enableServerTls() throws Exception {
        SelfSignedCertificate certificate = new SelfSignedCertificate("localhost");
        UserPrincipal owner = ownerOf(TestCluster.get().primary().dataDir());
        for (LocalNode node : TestCluster.get().nodes()) {
            Path cert = node.dataDir().resolve("pgrelay-test.crt");
            Path key = node.dataDir().resolve("pgrelay-test.key");
            Files.copy(certificate.certificate().toPath(), cert, StandardCopyOption.REPLACE_EXISTING);
            Files.copy(certificate.privateKey().toPath(), key, StandardCopyOption.REPLACE_EXISTING);
            Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
            Files.setOwner(cert, owner);
            Files.setOwner(key, owner);
            node.setConf("ssl_cert_file", "pgrelay-test.crt");
            node.setConf("ssl_key_file", "pgrelay-test.key");
            node.setConf("ssl", "on");
        }
        certificate.delete();
        proxy = TestProxy.start("backend: { tls: require }\n");
    }

    private static UserPrincipal ownerOf(Path path) throws java.io.IOException {
        return Files.getOwner(path);
    }

    @AfterAll
    static void disableServerTls() {
        if (proxy != null) {
            proxy.close();
        }
        for (LocalNode node : TestCluster.get().nodes()) {
            node.resetConf("ssl");
            node.resetConf("ssl_cert_file");
            node.resetConf("ssl_key_file");
        }
    }

    @Test
    void backendConnectionIsEncrypted() throws SQLException {
        try (Connection c = proxy.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getBoolean(1)).as("backend connection uses TLS").isTrue();
            assertThat(rs.getString(2)).startsWith("TLS");
        }
    }
}
