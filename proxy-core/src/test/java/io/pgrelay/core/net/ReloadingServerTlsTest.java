package io.pgrelay.core.net;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.util.SelfSignedCertificate;
import io.pgrelay.core.config.ConfigException;
import io.pgrelay.core.net.ReloadingServerTls.Outcome;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

class ReloadingServerTlsTest {
    private static SelfSignedCertificate a;
    private static SelfSignedCertificate b;

    @TempDir
    Path dir;

    @BeforeAll
    static void certificates() throws Exception {
        a = new SelfSignedCertificate("a.test");
        b = new SelfSignedCertificate("b.test");
    }

    @AfterAll
    static void delete() {
        a.delete();
        b.delete();
    }

    private Path cert() {
        return dir.resolve("server.crt");
    }

    private Path key() {
        return dir.resolve("server.key");
    }

    private void install(SelfSignedCertificate certOf, SelfSignedCertificate keyOf) throws IOException {
        Files.copy(certOf.certificate().toPath(), cert(), StandardCopyOption.REPLACE_EXISTING);
        Files.copy(keyOf.privateKey().toPath(), key(), StandardCopyOption.REPLACE_EXISTING);
    }

    @Test
    void aPairThatDoesNotLoadAtStartIsAConfigError() throws IOException {
        install(a, b);

        assertThatThrownBy(() -> new ReloadingServerTls(cert(), key()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("the key does not belong to the certificate");
        assertThatThrownBy(() -> new ReloadingServerTls(dir.resolve("missing.crt"), key()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("missing.crt");
    }

    @Test
    void reloadTakesANewPairAndKeepsTheOldOneWhenTheNewOneDoesNotLoad() throws IOException {
        install(a, a);
        try (ReloadingServerTls tls = new ReloadingServerTls(cert(), key())) {
            SslContext first = tls.get();
            assertThat(tls.reload().outcome()).isEqualTo(Outcome.UNCHANGED);
            assertThat(tls.get()).isSameAs(first);

            install(b, a);
            ReloadingServerTls.Result mismatch = tls.reload();
            assertThat(mismatch.outcome()).isEqualTo(Outcome.FAILED);
            assertThat(mismatch.detail()).contains("does not belong");
            assertThat(tls.get()).isSameAs(first);

            Files.writeString(key(), "not a key");
            assertThat(tls.reload().outcome()).isEqualTo(Outcome.FAILED);
            Files.delete(key());
            assertThat(tls.reload().outcome()).isEqualTo(Outcome.FAILED);
            assertThat(tls.get()).isSameAs(first);

            install(b, b);
            assertThat(tls.reload().outcome()).isEqualTo(Outcome.RELOADED);
            assertThat(tls.get()).isNotSameAs(first);
        }
    }

    @Test
    void theWatcherPicksUpChangedFiles() throws IOException {
        install(a, a);
        try (ReloadingServerTls tls = new ReloadingServerTls(cert(), key()).watch(Duration.ofMillis(50))) {
            SslContext first = tls.get();

            install(b, b);

            await().atMost(Duration.ofSeconds(10)).until(() -> tls.get() != first);
        }
    }
}
