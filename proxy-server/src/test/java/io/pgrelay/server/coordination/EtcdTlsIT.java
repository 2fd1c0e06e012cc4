package io.pgrelay.server.coordination;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgrelay.server.testing.AdminClient;
import io.pgrelay.server.testing.TestPki;
import io.pgrelay.server.testing.TestProxy;
import io.pgrelay.testkit.LocalEtcd;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * TLS toward etcd: an etcd that serves {@code https://} and asks every client for a certificate
 * of its CA. An instance with the right CA and client certificate registers; one that trusts
 * another CA never does (its handshake fails, so nothing it sends reaches etcd), and neither does
 * one whose client certificate etcd's CA did not sign.
 */
class EtcdTlsIT {
    private static Path dir;
    private static LocalEtcd etcd;
    private static String prefix;
    private static final List<TestProxy> proxies = new ArrayList<>();

    @BeforeAll
    static void start() throws IOException {
        dir = Files.createTempDirectory("pgrelay-etcd-tls");
        TestPki.Issued ca = TestPki.ca("etcd test CA");
        TestPki.Issued other = TestPki.ca("another CA");
        write(ca, "ca");
        write(other, "other-ca");
        write(TestPki.server(ca, "etcd", "127.0.0.1", "localhost"), "server");
        write(TestPki.client(ca, "pgrelay"), "client");
        write(TestPki.client(other, "pgrelay"), "stranger");
        etcd = LocalEtcd.start(1, new LocalEtcd.ClientTls(dir.resolve("server.crt"), dir.resolve("server.key"),
                dir.resolve("ca.crt")));
        prefix = "/pgrelay/etcd-tls-it-" + UUID.randomUUID().toString().substring(0, 8);
    }

    private static void write(TestPki.Issued issued, String name) {
        issued.writeTo(dir.resolve(name + ".crt"), dir.resolve(name + ".key"));
    }

    private static String coordination(String ca, String client) {
        return """
                coordination:
                  etcd:
                    endpoints: %s
                    prefix: %s
                    ttl: 3s
                    tls-ca: %s
                    tls-cert: %s
                    tls-key: %s
                """.formatted(etcd.endpointsYaml(), prefix, dir.resolve(ca + ".crt"), dir.resolve(client + ".crt"),
                dir.resolve(client + ".key"));
    }

    @AfterAll
    static void stop() {
        proxies.forEach(TestProxy::close);
        if (etcd != null) {
            etcd.close();
        }
    }

    private static List<String> listed(TestProxy proxy) {
        List<String> addresses = new ArrayList<>();
        new AdminClient(proxy).cluster().get("proxies").forEach(member -> addresses.add(member.get("address").asText()));
        return addresses;
    }

    @Test
    void onlyTheInstanceWithTheRightCaAndCertificateRegisters() {
        assertThat(etcd.endpoints()).allSatisfy(endpoint -> assertThat(endpoint).startsWith("https://"));
        TestProxy trusted = TestProxy.start(coordination("ca", "client"));
        proxies.add(trusted);
        TestProxy wrongCa = TestProxy.start(coordination("other-ca", "client"));
        proxies.add(wrongCa);
        TestProxy wrongClient = TestProxy.start(coordination("ca", "stranger"));
        proxies.add(wrongClient);

        String self = "127.0.0.1:" + trusted.port();
        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(100))
                .untilAsserted(() -> assertThat(listed(trusted)).containsExactly(self));
        // Long enough for the refused ones to have tried (their first attempt is at start, retries follow).
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(200))
                .untilAsserted(() -> {
                    assertThat(listed(trusted)).as("only the trusted instance is in etcd").containsExactly(self);
                    assertThat(listed(wrongCa)).as("an instance that does not trust etcd's certificate").isEmpty();
                    assertThat(listed(wrongClient)).as("an instance etcd does not trust").isEmpty();
                });
        JsonNode cluster = new AdminClient(trusted).cluster();
        assertThat(cluster.get("proxies").get(0).get("self").asBoolean()).isTrue();
    }
}
