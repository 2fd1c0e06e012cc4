package io.pgrelay.server;

import io.pgrelay.core.auth.ClientCredentials;
import io.pgrelay.core.auth.UserDirectory;
import io.pgrelay.core.config.AuthMethod;
import io.pgrelay.core.config.ConfigException;
import io.pgrelay.core.config.LimitsConfig;
import io.pgrelay.core.config.ProxyConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The security defaults and keys of the configuration: auth method, secrets from files, limits. */
class SecurityConfigTest {
    private static final String NODES = """
            nodes:
              - { name: pg1, host: 127.0.0.1 }
            """;

    @TempDir
    Path dir;

    private static ProxyConfig parse(String yaml) {
        return new ConfigLoader(name -> null).parse(yaml);
    }

    private Path secret(String name, String content) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, content);
        return file;
    }

    // ---- SCRAM by default ----

    @Test
    void aUserWithoutAMethodGetsScram() {
        ProxyConfig config = parse(NODES + "auth: { users: [ { name: app, password: app } ] }\n");
        ClientCredentials app = new UserDirectory(config.auth()).find("app");

        assertThat(config.auth().method()).isEqualTo(AuthMethod.SCRAM_SHA_256);
        assertThat(app.method()).isEqualTo(AuthMethod.SCRAM_SHA_256);
    }

    @Test
    void md5AndCleartextAreOnlyGivenOnRequest() {
        ProxyConfig config = parse(NODES + """
                auth:
                  users:
                    - { name: legacy, password: pw, method: md5 }
                    - { name: plain, password: pw, method: password }
                    - { name: modern, password: pw }
                """);
        UserDirectory users = new UserDirectory(config.auth());

        assertThat(users.find("legacy").method()).isEqualTo(AuthMethod.MD5);
        assertThat(users.find("plain").method()).isEqualTo(AuthMethod.PASSWORD);
        assertThat(users.find("modern").method()).isEqualTo(AuthMethod.SCRAM_SHA_256);
    }

    @Test
    void anMd5HashCannotServeTheScramDefault() {
        ProxyConfig config = parse(NODES + "auth: { users: [ { name: old, password: md5" + "0".repeat(32) + " } ] }\n");

        assertThatThrownBy(() -> new UserDirectory(config.auth()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("auth.users.old");
    }

    // ---- secrets from files ----

    @Test
    void everyPasswordAndTheTokenCanComeFromAFile() throws IOException {
        Path user = secret("app.pw", "s3cret\n");
        Path backend = secret("backend.pw", "b4ckend\r\n");
        Path monitor = secret("monitor.pw", "m0nitor");
        Path token = secret("token", "t0ken\n");
        ProxyConfig config = parse(NODES + """
                auth:
                  users:
                    - { name: app, password-file: %s, backend-password-file: %s }
                monitor: { password-file: %s }
                admin: { token-file: %s }
                """.formatted(user, backend, monitor, token));

        assertThat(config.auth().user("app").password()).isEqualTo("s3cret");
        assertThat(config.auth().user("app").backendPassword()).isEqualTo("b4ckend");
        assertThat(config.monitor().password()).isEqualTo("m0nitor");
        assertThat(config.admin().token()).isEqualTo("t0ken");
    }

    @Test
    void onlyOneTrailingNewlineIsDropped() throws IOException {
        Path file = secret("pw", "  two words \n\n");

        ProxyConfig config = parse(NODES + "monitor: { password-file: " + file + " }\n");

        assertThat(config.monitor().password()).isEqualTo("  two words \n");
    }

    @Test
    void theFilePathMayComeFromTheEnvironmentButTheContentIsLiteral() throws IOException {
        secret("pw", "${NOT_EXPANDED}");
        ProxyConfig config = new ConfigLoader(Map.of("SECRETS", dir.toString())::get)
                .parse(NODES + "monitor: { password-file: \"${SECRETS}/pw\" }\n");

        assertThat(config.monitor().password()).isEqualTo("${NOT_EXPANDED}");
    }

    @Test
    void aMissingFileIsAnErrorNamingTheKey() {
        Path missing = dir.resolve("nope");

        assertThatThrownBy(() -> parse(NODES + "auth: { users: [ { name: app, password-file: " + missing + " } ] }\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("auth.users[0].password-file")
                .hasMessageContaining(missing.toString());
        assertThatThrownBy(() -> parse(NODES + "admin: { token-file: " + missing + " }\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("admin.token-file: cannot read");
    }

    @Test
    void aSecretAndItsFileTogetherAreRefused() throws IOException {
        Path file = secret("pw", "x");

        assertThatThrownBy(() -> parse(NODES + "monitor: { password: a, password-file: " + file + " }\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("monitor.password-file: give either password or password-file");
    }

    @Test
    void errorsNeverShowTheSecret() throws IOException {
        Path file = secret("pw", "hunter2-is-secret");

        // A secret where it does not belong: the key is named, the value is not.
        assertThatThrownBy(() -> parse(NODES + "routing: { password-file: " + file + " }\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("routing.password")
                .hasMessageNotContaining("hunter2");
    }

    // ---- limits ----

    @Test
    void limitsDefaultToNoneAndATenSecondStartupTimeout() {
        LimitsConfig limits = parse(NODES).limits();

        assertThat(limits.userLimit("anyone")).isZero();
        assertThat(limits.databaseLimit("anything")).isZero();
        assertThat(limits.clientStartupTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(limits.clientIdleTimeout()).isZero();
        assertThat(limits.clientIdleInTransactionTimeout()).isZero();
    }

    @Test
    void perUserAndPerDatabaseLimitsOverrideTheGeneralOnes() {
        LimitsConfig limits = parse(NODES + """
                limits:
                  max-connections-per-user: 20
                  max-connections-per-database: 50
                  users: { batch: 2, admin: 0 }
                  databases: { reports: 5 }
                  client-startup-timeout: 3s
                  client-idle-timeout: 10m
                  client-idle-in-transaction-timeout: 30s
                """).limits();

        assertThat(limits.userLimit("app")).isEqualTo(20);
        assertThat(limits.userLimit("batch")).isEqualTo(2);
        assertThat(limits.userLimit("admin")).isZero();
        assertThat(limits.databaseLimit("app")).isEqualTo(50);
        assertThat(limits.databaseLimit("reports")).isEqualTo(5);
        assertThat(limits.clientStartupTimeout()).isEqualTo(Duration.ofSeconds(3));
        assertThat(limits.clientIdleTimeout()).isEqualTo(Duration.ofMinutes(10));
        assertThat(limits.clientIdleInTransactionTimeout()).isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void badLimitsAreRefusedWithTheirKey() {
        assertThatThrownBy(() -> parse(NODES + "limits: { users: { app: -1 } }\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("limits.users.app must be >= 0");
        assertThatThrownBy(() -> parse(NODES + "limits: { client-startup-timeout: 0s }\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("limits.client-startup-timeout");
        assertThatThrownBy(() -> parse(NODES + "limits: { max-connection-per-user: 3 }\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("limits.max-connection-per-user");
    }
}
