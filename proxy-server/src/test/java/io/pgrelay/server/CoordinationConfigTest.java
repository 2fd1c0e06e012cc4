package io.pgrelay.server;

import io.pgrelay.core.config.ConfigException;
import io.pgrelay.core.config.CoordinationConfig.EtcdConfig;
import io.pgrelay.core.config.ProxyConfig;
import io.pgrelay.core.reload.ConfigChanges;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The {@code coordination} key as the YAML file spells it: defaults, checks, secrets, restart-only. */
class CoordinationConfigTest {
    private static final String NODES = "nodes: [ { name: pg1, host: 127.0.0.1 } ]\n";
    private static final ConfigLoader LOADER = new ConfigLoader(name -> null);

    private static ProxyConfig parse(String coordination) {
        return LOADER.parse(NODES + coordination);
    }

    @Test
    void withoutTheKeyTheInstanceRunsAlone() {
        ProxyConfig config = parse("");
        assertThat(config.coordination().enabled()).isFalse();
        assertThat(config.coordination().etcd()).isNull();
    }

    @Test
    void etcdWithItsDefaults() {
        EtcdConfig etcd = parse("""
                coordination:
                  etcd:
                    endpoints: [http://127.0.0.1:2379, "http://10.0.0.2:2379"]
                    prefix: /pgrelay/main/
                """).coordination().etcd();
        assertThat(etcd.endpoints()).containsExactly("http://127.0.0.1:2379", "http://10.0.0.2:2379");
        assertThat(etcd.prefix()).as("a trailing slash is dropped").isEqualTo("/pgrelay/main");
        assertThat(etcd.membersPrefix()).isEqualTo("/pgrelay/main/members/");
        assertThat(etcd.ttl()).isEqualTo(Duration.ofSeconds(5));
        assertThat(etcd.user()).isNull();
        assertThat(etcd.password()).isNull();
    }

    @Test
    void httpsEndpointsWithTheirFiles(@TempDir Path dir) throws IOException {
        Path ca = Files.writeString(dir.resolve("ca.crt"), "pem");
        EtcdConfig etcd = parse("""
                coordination:
                  etcd: { endpoints: [https://10.0.0.1:2379, https://10.0.0.2:2379], prefix: /p, tls-ca: %s }
                """.formatted(ca)).coordination().etcd();
        assertThat(etcd.tls()).isTrue();
        assertThat(etcd.tlsCa()).isEqualTo(ca.toString());
        assertThat(etcd.tlsCert()).isNull();
        assertThat(parse("coordination: { etcd: { endpoints: [http://127.0.0.1:2379], prefix: /p } }")
                .coordination().etcd().tls()).isFalse();
    }

    @Test
    void theAdvertisedHostIsKeptBare() {
        assertThat(parse("coordination: { advertise-host: proxy-1.example }").coordination().advertiseHost())
                .isEqualTo("proxy-1.example");
        assertThat(parse("coordination: { advertise-host: \"[fd00::1]\" }").coordination().advertiseHost())
                .isEqualTo("fd00::1");
        assertThat(parse("").coordination().advertiseHost()).as("default: derived from listen at start").isNull();
        assertRefused("coordination: { advertise-host: \" \" }", "coordination.advertise-host", "a host name");
    }

    @Test
    void credentialsMayComeFromAFile(@TempDir Path dir) throws IOException {
        Path secret = dir.resolve("etcd-password");
        Files.writeString(secret, "s3cret\n");
        EtcdConfig etcd = parse("""
                coordination:
                  etcd: { endpoints: [http://127.0.0.1:2379], prefix: /p, ttl: 3s, user: pgrelay, password-file: %s }
                """.formatted(secret)).coordination().etcd();
        assertThat(etcd.user()).isEqualTo("pgrelay");
        assertThat(etcd.password()).isEqualTo("s3cret");
        assertThat(etcd.ttl()).isEqualTo(Duration.ofSeconds(3));
    }

    @Test
    void invalidValuesNameTheirKey() {
        assertRefused("coordination: { etcd: { prefix: /p } }", "coordination.etcd.endpoints",
                "at least one etcd endpoint");
        assertRefused("coordination: { etcd: { endpoints: [], prefix: /p } }", "coordination.etcd.endpoints",
                "at least one etcd endpoint");
        assertRefused("coordination: { etcd: { endpoints: [127.0.0.1:2379], prefix: /p } }",
                "coordination.etcd.endpoints", "not an etcd client URL");
        assertRefused("coordination: { etcd: { endpoints: [https://127.0.0.1:2379, http://127.0.0.1:2380], prefix: /p } }",
                "coordination.etcd.endpoints", "all https:// or all http://");
        assertRefused("coordination: { etcd: { endpoints: [http://127.0.0.1:2379], prefix: /p, tls-ca: /etc/hostname } }",
                "coordination.etcd", "need https:// endpoints");
        assertRefused("coordination: { etcd: { endpoints: [https://127.0.0.1:2379], prefix: /p, tls-cert: /etc/hostname } }",
                "coordination.etcd", "must be given together");
        assertRefused("coordination: { etcd: { endpoints: [https://127.0.0.1:2379], prefix: /p, tls-ca: /nonexistent/ca.crt } }",
                "coordination.etcd", "cannot read TLS file /nonexistent/ca.crt");
        assertRefused("coordination: { etcd: { endpoints: [http://127.0.0.1:2379] } }", "coordination.etcd.prefix",
                "required");
        assertRefused("coordination: { etcd: { endpoints: [http://127.0.0.1:2379], prefix: pgrelay/main } }",
                "coordination.etcd.prefix", "absolute key path");
        assertRefused("coordination: { etcd: { endpoints: [http://127.0.0.1:2379], prefix: / } }",
                "coordination.etcd.prefix", "absolute key path");
        assertRefused("coordination: { etcd: { endpoints: [http://127.0.0.1:2379], prefix: /p, ttl: 1s } }",
                "coordination.etcd.ttl", "at least 2s");
        assertRefused("coordination: { etcd: { endpoints: [http://127.0.0.1:2379], prefix: /p, ttl: 2500ms } }",
                "coordination.etcd.ttl", "whole seconds");
        assertRefused("coordination: { etcd: { endpoints: [http://127.0.0.1:2379], prefix: /p, user: u } }",
                "coordination.etcd", "user and password must be given together");
        assertThatThrownBy(() -> parse("coordination: { etcd: { endpoints: [http://e:2379], prefix: /p, tll: 5s } }"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("coordination.etcd.tll");
    }

    @Test
    void aChangeNeedsARestart() {
        ProxyConfig running = parse("");
        ProxyConfig next = parse("coordination: { etcd: { endpoints: [http://127.0.0.1:2379], prefix: /p } }");
        assertThat(ConfigChanges.between(running, next)).singleElement().satisfies(change -> {
            assertThat(change.key()).isEqualTo("coordination.etcd");
            assertThat(change.reloadable()).isFalse();
        });
        assertThat(ConfigChanges.effective(running, next).coordination().enabled())
                .as("the running value stays until a restart").isFalse();
    }

    private static void assertRefused(String yaml, String key, String message) {
        assertThatThrownBy(() -> parse(yaml + "\n")).as(yaml).isInstanceOf(ConfigException.class)
                .hasMessageContaining(key).hasMessageContaining(message);
    }
}
