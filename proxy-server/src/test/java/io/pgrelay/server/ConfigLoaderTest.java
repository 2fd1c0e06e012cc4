package io.pgrelay.server;

import io.pgrelay.core.config.AuthMethod;
import io.pgrelay.core.config.BackendTlsMode;
import io.pgrelay.core.config.ConfigException;
import io.pgrelay.core.config.HostPort;
import io.pgrelay.core.config.PoolMode;
import io.pgrelay.core.config.ProxyConfig.BackendConfig;
import io.pgrelay.core.config.ProxyConfig.FailoverConfig;
import io.pgrelay.core.config.ProxyConfig.MonitorConfig;
import io.pgrelay.core.config.ProxyConfig.NodeConfig;
import io.pgrelay.core.config.ProxyConfig.PoolConfig;
import io.pgrelay.core.config.ProxyConfig.RoutingConfig;
import io.pgrelay.core.config.ProxyConfig.TlsConfig;
import io.pgrelay.core.config.ProxyConfig.UserConfig;
import io.pgrelay.core.config.ProxyConfig;
import io.pgrelay.core.config.TlsMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConfigLoaderTest {
    /** The example configuration shipped at the repository root; tests run in the module directory. */
    private static final Path SHIPPED = Path.of("..", "conf", "pgrelay.yml");

    private static final String NODES = """
            nodes:
              - { name: pg1, host: 127.0.0.1 }
            """;

    private static final ConfigLoader NO_ENVIRONMENT = new ConfigLoader(name -> null);

    private static ProxyConfig parse(String yaml) {
        return NO_ENVIRONMENT.parse(yaml);
    }

    private static ProxyConfig parse(Map<String, String> environment, String yaml) {
        return new ConfigLoader(environment::get).parse(yaml);
    }

    // ---- the shipped file ----

    @Test
    void shippedConfigurationLoadsWithTheDocumentedValues() {
        ProxyConfig config = NO_ENVIRONMENT.load(SHIPPED);

        assertThat(config.listen()).isEqualTo(new HostPort("127.0.0.1", 6432));
        assertThat(config.poolMode()).isEqualTo(PoolMode.SESSION);
        assertThat(config.workers()).isZero();
        assertThat(config.maxClientConnections()).isEqualTo(1000);
        assertThat(config.maxMessageSize()).isEqualTo(64L * 1024 * 1024);
        assertThat(config.tls().mode()).isEqualTo(TlsMode.PREFER);
        assertThat(config.backend().tls()).isEqualTo(BackendTlsMode.DISABLE);
        assertThat(config.backend().connectTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(config.pool().maxSize()).isEqualTo(50);
        assertThat(config.pool().idleTimeout()).isEqualTo(Duration.ofMinutes(5));
        assertThat(config.pool().acquireTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(config.pool().resetQuery()).isEqualTo("DISCARD ALL");
        assertThat(config.admin().listen()).isEqualTo(new HostPort("127.0.0.1", 6480));
        assertThat(config.admin().token()).isEqualTo("change-me");
        assertThat(config.admin().consoleUsers()).containsExactly("postgres");
        assertThat(config.nodes()).containsExactly(
                new NodeConfig("pg1", "127.0.0.1", 5432, 1),
                new NodeConfig("pg2", "127.0.0.1", 5433, 1),
                new NodeConfig("pg3", "127.0.0.1", 5434, 1));
        assertThat(config.auth().method()).isEqualTo(AuthMethod.SCRAM_SHA_256);
        assertThat(config.auth().users()).containsExactly(new UserConfig("app", "app", null, null, null));
        assertThat(config.monitor().password()).isEmpty();
        assertThat(config.monitor().interval()).isEqualTo(Duration.ofSeconds(1));
        assertThat(config.routing().maxReplicaLag()).isEqualTo(Duration.ofSeconds(10));
        assertThat(config.routing().consistency()).isEqualTo("eventual");
        assertThat(config.failover().automatic()).isTrue();
    }

    @Test
    void lifecycleKeys() {
        ProxyConfig defaults = parse(NODES);
        assertThat(defaults.shutdownTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(defaults.listenReusePort()).isTrue();
        assertThat(defaults.logLevels()).isEmpty();

        ProxyConfig set = parse(NODES + "shutdown-timeout: 500ms\nlisten-reuse-port: false\n"
                + "log-levels: { root: WARN, io.pgrelay.client: debug }\n");
        assertThat(set.shutdownTimeout()).isEqualTo(Duration.ofMillis(500));
        assertThat(set.listenReusePort()).isFalse();
        assertThat(set.logLevels()).containsExactly(java.util.Map.entry("io.pgrelay.client", "debug"),
                java.util.Map.entry("root", "warn"));

        assertThatThrownBy(() -> parse(NODES + "log-levels: { root: loud }\n"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("log-levels.root")
                .hasMessageContaining("'loud' is not one of trace | debug | info | warn | error | off");
    }

    @Test
    void shippedConfigurationDocumentsTheBuiltInDefaults() {
        ProxyConfig shipped = NO_ENVIRONMENT.load(SHIPPED);
        ProxyConfig defaults = parse(NODES);

        assertThat(shipped.listen()).isEqualTo(defaults.listen());
        assertThat(shipped.poolMode()).isEqualTo(defaults.poolMode());
        assertThat(shipped.workers()).isEqualTo(defaults.workers());
        assertThat(shipped.maxClientConnections()).isEqualTo(defaults.maxClientConnections());
        assertThat(shipped.maxMessageSize()).isEqualTo(defaults.maxMessageSize());
        assertThat(shipped.tls()).isEqualTo(new TlsConfig(null, null, null));
        assertThat(shipped.backend()).isEqualTo(new BackendConfig(null, null, null, null, null, null, null));
        assertThat(shipped.pool()).isEqualTo(new PoolConfig(null, null, null, null));
        assertThat(shipped.admin().listen()).isEqualTo(defaults.admin().listen());
        assertThat(shipped.auth().method()).isEqualTo(defaults.auth().method());
        assertThat(shipped.monitor()).isEqualTo(new MonitorConfig(null, null, null, null, null, null, null, null));
        assertThat(shipped.routing()).isEqualTo(
                new RoutingConfig(null, null, null, null, null, null, null, null, null, null, null, null, null));
        assertThat(shipped.failover()).isEqualTo(new FailoverConfig(null, null, null, null, null, null));
        assertThat(shipped.shutdownTimeout()).isEqualTo(defaults.shutdownTimeout());
        assertThat(shipped.listenReusePort()).isEqualTo(defaults.listenReusePort());
        assertThat(shipped.logLevels()).isEqualTo(defaults.logLevels());
    }

    @Test
    void shippedConfigurationTakesItsSecretsFromTheEnvironment() {
        ProxyConfig config = new ConfigLoader(Map.of("PGRELAY_ADMIN_TOKEN", "t0ken",
                "PGRELAY_MONITOR_PASSWORD", "m0nitor")::get).load(SHIPPED);

        assertThat(config.admin().token()).isEqualTo("t0ken");
        assertThat(config.monitor().password()).isEqualTo("m0nitor");
    }

    @Test
    void missingFileIsAConfigException() {
        assertThatThrownBy(() -> NO_ENVIRONMENT.load(Path.of("no-such-pgrelay.yml")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("no-such-pgrelay.yml");
    }

    // ---- environment expansion ----

    @Test
    void variablesAreExpanded() {
        ProxyConfig config = parse(Map.of("PG_HOST", "db.internal", "PG_PORT", "6543", "TOKEN", "s3cret"), NODES + """
                listen: ${PG_HOST}:${PG_PORT}
                admin: { token: "pre-${TOKEN}-post" }
                """);

        assertThat(config.listen()).isEqualTo(new HostPort("db.internal", 6543));
        assertThat(config.admin().token()).isEqualTo("pre-s3cret-post");
    }

    @Test
    void defaultsApplyWhenUnsetOrEmpty() {
        String yaml = NODES + """
                admin: { token: "${TOKEN:-fallback}" }
                monitor: { user: "${MONITOR_USER:-postgres}", password: "${MONITOR_PASSWORD:-}" }
                """;

        ProxyConfig unset = parse(Map.of(), yaml);
        assertThat(unset.admin().token()).isEqualTo("fallback");
        assertThat(unset.monitor().user()).isEqualTo("postgres");
        assertThat(unset.monitor().password()).isEmpty();

        ProxyConfig empty = parse(Map.of("TOKEN", ""), yaml);
        assertThat(empty.admin().token()).isEqualTo("fallback");

        ProxyConfig set = parse(Map.of("TOKEN", "given", "MONITOR_USER", "watcher"), yaml);
        assertThat(set.admin().token()).isEqualTo("given");
        assertThat(set.monitor().user()).isEqualTo("watcher");
    }

    @Test
    void variablesAreExpandedInListsAndTakenLiterally() {
        ProxyConfig config = parse(Map.of("ADMIN", "ops", "PW", "a$b\\c${X}"), NODES + """
                admin: { console-users: [postgres, "${ADMIN}"] }
                auth: { users: [ { name: app, password: "${PW}" } ] }
                """);

        assertThat(config.admin().consoleUsers()).containsExactly("postgres", "ops");
        assertThat(config.auth().user("app").password()).isEqualTo("a$b\\c${X}");
    }

    @Test
    void unsetVariableWithoutDefaultIsNamed() {
        assertThatThrownBy(() -> parse(Map.of(), NODES + "admin: { token: \"${PGRELAY_TOKEN}\" }\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("environment variable PGRELAY_TOKEN is not set");
    }

    // ---- durations and sizes ----

    @ParameterizedTest
    @CsvSource({"500ms, 500", "10s, 10000", "5m, 300000", "1.5s, 1500", "2h, 7200000", "1d, 86400000",
            "30, 30000", "250 ms, 250"})
    void durations(String text, long millis) {
        assertThat(ConfigLoader.parseDuration(text)).isEqualTo(Duration.ofMillis(millis));
    }

    @Test
    void microseconds() {
        assertThat(ConfigLoader.parseDuration("250us")).isEqualTo(Duration.ofNanos(250_000));
    }

    @Test
    void durationsInTheFile() {
        ProxyConfig config = parse(NODES + """
                pool: { idle-timeout: 1.5s, acquire-timeout: 500ms }
                backend: { connect-timeout: 5m }
                monitor: { interval: 10 }
                """);

        assertThat(config.pool().idleTimeout()).isEqualTo(Duration.ofMillis(1500));
        assertThat(config.pool().acquireTimeout()).isEqualTo(Duration.ofMillis(500));
        assertThat(config.backend().connectTimeout()).isEqualTo(Duration.ofMinutes(5));
        assertThat(config.monitor().interval()).isEqualTo(Duration.ofSeconds(10));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "soon", "10 parsecs", "-5s", "1.s", "s"})
    void invalidDurations(String text) {
        assertThatThrownBy(() -> ConfigLoader.parseDuration(text))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("invalid duration");
    }

    @Test
    void invalidDurationInTheFileNamesTheKey() {
        assertThatThrownBy(() -> parse(NODES + "pool: { idle-timeout: soon }\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("pool.idle-timeout: invalid duration 'soon' (examples: 500ms, 10s, 5m)");
    }

    @ParameterizedTest
    @CsvSource({"64MB, 67108864", "1kB, 1024", "65536, 65536", "64kB, 65536", "2GB, 2147483648", "16MiB, 16777216",
            "8 mb, 8388608", "512B, 512", "3k, 3072"})
    void sizes(String text, long bytes) {
        assertThat(ConfigLoader.parseSize(text)).isEqualTo(bytes);
    }

    @Test
    void sizesInTheFile() {
        assertThat(parse(NODES + "max-message-size: 1kB\n").maxMessageSize()).isEqualTo(1024L);
        assertThat(parse(NODES + "max-message-size: 65536\n").maxMessageSize()).isEqualTo(65536L);
        assertThat(parse(NODES + "max-message-size: 64MB\n").maxMessageSize()).isEqualTo(64L * 1024 * 1024);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "big", "64TB", "-1", "1.5MB", "MB"})
    void invalidSizes(String text) {
        assertThatThrownBy(() -> ConfigLoader.parseSize(text))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("invalid size");
    }

    @Test
    void sizeOutOfRangeIsRefused() {
        assertThatThrownBy(() -> parse(NODES + "max-message-size: 512\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("max-message-size must be between 1kB and 2GB");
    }

    // ---- mistakes are named ----

    @Test
    void unknownKeyIsNamedWithItsFullPath() {
        assertThatThrownBy(() -> parse(NODES + "pool: { max-sise: 10 }\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("unknown configuration key 'pool.max-sise'");
    }

    @Test
    void unknownTopLevelKeyIsNamed() {
        assertThatThrownBy(() -> parse(NODES + "pool-size: 10\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("unknown configuration key 'pool-size'");
    }

    @Test
    void unknownKeyInAListIsNamedWithItsIndex() {
        assertThatThrownBy(() -> parse("nodes:\n  - { name: pg1, host: a }\n  - { name: pg2, host: b, prot: 5433 }\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("unknown configuration key 'nodes[1].prot'");
    }

    @Test
    void classifierBoundsAreCheckedWhenTheFileIsRead() {
        assertThatThrownBy(() -> parse(NODES + "routing: { cache-size: -1 }\n"))
                .isInstanceOf(ConfigException.class).hasMessage("routing.cache-size must be >= 0 (0 = no cache)");
        assertThatThrownBy(() -> parse(NODES + "routing: { max-statement-length: 0 }\n"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("routing.max-statement-length must be >= 1");
        assertThatThrownBy(() -> parse(NODES + "routing: { max-statement-length: 1000, max-scan-length: 10 }\n"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("max-scan-length at least as large");
    }

    @Test
    void badEnumValueListsTheAllowedValues() {
        assertThatThrownBy(() -> parse(NODES + "pool-mode: sesion\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("pool-mode: 'sesion' is not one of session | transaction");
        assertThatThrownBy(() -> parse(NODES + "tls: { mode: always }\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("'always' is not one of disable | prefer | require");
        assertThatThrownBy(() -> parse(NODES + "auth: { method: ldap }\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("'ldap' is not one of scram-sha-256 | md5 | password | trust");
    }

    @Test
    void backendTlsTakesLibpqSslModesWithTheirFiles() {
        assertThat(parse(NODES + "backend: { tls: verify-full, tls-ca: /etc/ca.pem, tls-cert: /etc/c.crt,"
                + " tls-key: /etc/c.key }\n").backend()).satisfies(backend -> {
                    assertThat(backend.tls()).isEqualTo(BackendTlsMode.VERIFY_FULL);
                    assertThat(backend.tlsCa()).isEqualTo("/etc/ca.pem");
                    assertThat(backend.tlsCert()).isEqualTo("/etc/c.crt");
                    assertThat(backend.tlsKey()).isEqualTo("/etc/c.key");
                });
        assertThat(parse(NODES + "backend: { tls: verify-ca, tls-ca: /etc/ca.pem }\n").backend().tls())
                .isEqualTo(BackendTlsMode.VERIFY_CA);
        assertThat(parse(NODES + "backend: { tls: require, tls-cert: /etc/c.crt, tls-key: /etc/c.key }\n")
                .backend().tlsCert()).isEqualTo("/etc/c.crt");
        assertThatThrownBy(() -> parse(NODES + "backend: { tls: verify }\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("backend.tls")
                .hasMessageContaining("'verify' is not one of disable | prefer | require | verify-ca | verify-full");
    }

    @ParameterizedTest
    @ValueSource(strings = {"verify-ca", "verify-full"})
    void verifyingModesNeedACaFileAsLibpqDoes(String mode) {
        assertThatThrownBy(() -> parse(NODES + "backend: { tls: " + mode + " }\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("backend.tls-ca is required with backend.tls " + mode)
                .hasMessageContaining("there is no default trust store");
    }

    @Test
    void aCaFileWithAModeThatDoesNotVerifyIsRefusedRatherThanIgnored() {
        assertThatThrownBy(() -> parse(NODES + "backend: { tls: require, tls-ca: /etc/ca.pem }\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("backend.tls-ca is only used by backend.tls verify-ca or verify-full; with require the "
                        + "server certificate is not checked");
    }

    @Test
    void backendClientCertificateAndKeyComeTogetherAndNeedTls() {
        assertThatThrownBy(() -> parse(NODES + "backend: { tls: require, tls-cert: /etc/c.crt }\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("backend.tls-cert and backend.tls-key must be given together");
        assertThatThrownBy(() -> parse(NODES + "backend: { tls-cert: /etc/c.crt, tls-key: /etc/c.key }\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("backend.tls-cert and backend.tls-key need TLS: backend.tls is disable");
    }

    @ParameterizedTest
    @ValueSource(strings = {"verify-ca", "verify-full", "VERIFY_FULL"})
    void clientSideTlsModeRefusesTheVerifyingModes(String mode) {
        assertThatThrownBy(() -> parse(NODES + "tls: { mode: " + mode + " }\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("tls.mode: '" + mode + "' verifies a server's certificate and is a backend.tls"
                        + " mode; toward clients tls.mode is disable | prefer | require");
    }

    @Test
    void enumValuesAreCaseAndDashInsensitive() {
        assertThat(parse(NODES + "pool-mode: Transaction\nauth: { method: SCRAM_SHA_256 }\n"))
                .satisfies(config -> {
                    assertThat(config.poolMode()).isEqualTo(PoolMode.TRANSACTION);
                    assertThat(config.auth().method()).isEqualTo(AuthMethod.SCRAM_SHA_256);
                });
    }

    @Test
    void badRoutingChoiceListsTheAllowedValues() {
        assertThatThrownBy(() -> parse(NODES + "routing: { consistency: strong }\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("routing.consistency: 'strong' is not one of eventual | causal | global");
    }

    @Test
    void globalConsistencyWithItsWait() {
        ProxyConfig config = parse(NODES + "routing: { consistency: global, global-wait: 250ms }\n");
        assertThat(config.routing().consistency()).isEqualTo("global");
        assertThat(config.routing().globalWait()).isEqualTo(java.time.Duration.ofMillis(250));
        assertThat(parse(NODES).routing().globalWait()).isEqualTo(java.time.Duration.ofMillis(100));
        assertThatThrownBy(() -> parse(NODES + "routing: { global-wait: -1s }\n"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("routing.global-wait");
    }

    @Test
    void duplicateNodeNamesAreRefused() {
        assertThatThrownBy(() -> parse("""
                nodes:
                  - { name: pg1, host: 127.0.0.1, port: 5432 }
                  - { name: pg1, host: 127.0.0.1, port: 5433 }
                """))
                .isInstanceOf(ConfigException.class)
                .hasMessage("nodes: duplicate node name 'pg1'");
    }

    @Test
    void missingNodesAreRefused() {
        assertThatThrownBy(() -> parse("listen: 127.0.0.1:6432\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("nodes: at least one PostgreSQL node is required");
        assertThatThrownBy(() -> parse("nodes: []\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("at least one PostgreSQL node is required");
    }

    @Test
    void nodeWithoutHostIsRefused() {
        assertThatThrownBy(() -> parse("nodes:\n  - { name: pg1 }\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("nodes.pg1: host is required");
    }

    @Test
    void badHostPortIsRefused() {
        assertThatThrownBy(() -> parse(NODES + "listen: localhost\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("listen")
                .hasMessageContaining("expected host:port");
    }

    @Test
    void ipv6ListenAddress() {
        assertThat(parse(NODES + "listen: \"[::1]:6432\"\n").listen()).isEqualTo(new HostPort("::1", 6432));
    }

    @Test
    void notAMappingIsRefused() {
        assertThatThrownBy(() -> parse("- just\n- a list\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("must be a YAML mapping");
        assertThatThrownBy(() -> parse(""))
                .isInstanceOf(ConfigException.class);
    }

    @Test
    void invalidYamlIsAConfigException() {
        assertThatThrownBy(() -> parse("nodes: [ { name: pg1\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("invalid YAML");
    }

    @Test
    void duplicateUsersAreRefused() {
        assertThatThrownBy(() -> parse(NODES + "auth: { users: [ { name: app }, { name: app } ] }\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("duplicate user 'app'");
    }

    @Test
    void nodeListIsKeptInOrderWithDefaults() {
        ProxyConfig config = parse("""
                nodes:
                  - { name: b, host: h2, port: 5433, weight: 0 }
                  - { name: a, host: h1 }
                """);

        assertThat(config.nodes()).extracting(NodeConfig::name).containsExactly("b", "a");
        assertThat(config.node("a")).isEqualTo(new NodeConfig("a", "h1", 5432, 1));
        assertThat(config.node("b").weight()).isZero();
    }
}
