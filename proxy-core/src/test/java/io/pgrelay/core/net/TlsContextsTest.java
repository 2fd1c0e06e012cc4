package io.pgrelay.core.net;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.util.SelfSignedCertificate;
import io.pgrelay.core.config.BackendTlsMode;
import io.pgrelay.core.config.ConfigException;
import io.pgrelay.core.config.ProxyConfig.BackendConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLEngine;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TlsContextsTest {
    private static SelfSignedCertificate certificate;

    @BeforeAll
    static void makeCertificate() throws Exception {
        certificate = new SelfSignedCertificate("pgrelay-unit-test");
    }

    @AfterAll
    static void deleteCertificate() {
        certificate.delete();
    }

    private static BackendConfig backend(BackendTlsMode mode, String ca, String cert, String key) {
        return new BackendConfig(mode, null, null, null, null, null, null, ca, cert, key);
    }

    private static String ca() {
        return certificate.certificate().getPath();
    }

    private static SSLEngine engine(SslContext context) {
        return context.newEngine(ByteBufAllocator.DEFAULT, "127.0.0.1", 5432);
    }

    @Test
    void disableBuildsNoContext() {
        assertThat(TlsContexts.forBackends(backend(BackendTlsMode.DISABLE, null, null, null))).isNull();
    }

    @Test
    void onlyVerifyFullChecksTheHostName() {
        assertThat(engine(TlsContexts.forBackends(backend(BackendTlsMode.VERIFY_FULL, ca(), null, null)))
                .getSSLParameters().getEndpointIdentificationAlgorithm()).isEqualTo("HTTPS");
        for (BackendTlsMode mode : new BackendTlsMode[] {BackendTlsMode.PREFER, BackendTlsMode.REQUIRE,
                BackendTlsMode.VERIFY_CA}) {
            String ca = mode.verifiesCertificate() ? ca() : null;
            SslContext context = TlsContexts.forBackends(backend(mode, ca, null, null));
            assertThat(context.isClient()).isTrue();
            assertThat(engine(context).getSSLParameters().getEndpointIdentificationAlgorithm()).as(mode.name())
                    .isNullOrEmpty();
        }
    }

    @Test
    void aClientCertificateAndKeyAreLoaded() {
        SslContext context = TlsContexts.forBackends(backend(BackendTlsMode.VERIFY_CA, ca(),
                certificate.certificate().getPath(), certificate.privateKey().getPath()));
        assertThat(context.isClient()).isTrue();
    }

    @Test
    void anUnreadableFileIsNamedWithItsKey() {
        assertThatThrownBy(() -> TlsContexts.forBackends(backend(BackendTlsMode.VERIFY_FULL, "/nonexistent/ca.pem",
                null, null)))
                .isInstanceOf(ConfigException.class)
                .hasMessage("backend.tls-ca: cannot read /nonexistent/ca.pem");
        assertThatThrownBy(() -> TlsContexts.forBackends(backend(BackendTlsMode.REQUIRE, null,
                certificate.certificate().getPath(), "/nonexistent/client.key")))
                .isInstanceOf(ConfigException.class)
                .hasMessage("backend.tls-key: cannot read /nonexistent/client.key");
    }

    @Test
    void aFileThatIsNotPemSaysWhichFilesAndWhy() throws Exception {
        Path garbage = Files.createTempFile("not-a-ca", ".pem");
        try {
            Files.writeString(garbage, "not a certificate");
            assertThatThrownBy(() -> TlsContexts.forBackends(backend(BackendTlsMode.VERIFY_CA, garbage.toString(),
                    null, null)))
                    .isInstanceOf(ConfigException.class)
                    .hasMessageStartingWith("backend.tls: cannot use " + garbage + ": ");
        } finally {
            Files.delete(garbage);
        }
    }
}
