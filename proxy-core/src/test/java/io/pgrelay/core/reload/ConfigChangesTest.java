package io.pgrelay.core.reload;

import io.pgrelay.core.config.BackendTlsMode;
import io.pgrelay.core.config.ConfigException;
import io.pgrelay.core.config.HostPort;
import io.pgrelay.core.config.ProxyConfig;
import io.pgrelay.core.config.ProxyConfig.AuthConfig;
import io.pgrelay.core.config.ProxyConfig.BackendConfig;
import io.pgrelay.core.config.ProxyConfig.NodeConfig;
import io.pgrelay.core.config.ProxyConfig.RoutingConfig;
import io.pgrelay.core.config.ProxyConfig.TlsConfig;
import io.pgrelay.core.config.ProxyConfig.UserConfig;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigChangesTest {
    private static final List<NodeConfig> NODES = List.of(new NodeConfig("pg1", "127.0.0.1", 5432, null),
            new NodeConfig("pg2", "127.0.0.1", 5433, null));

    private static ProxyConfig config(HostPort listen, Integer maxClients, List<NodeConfig> nodes, AuthConfig auth,
                                      RoutingConfig routing, TlsConfig tls, Map<String, String> logLevels) {
        return new ProxyConfig(listen, null, null, maxClients, null, tls, null, null, null, nodes, auth, null, routing,
                null, null, null, logLevels);
    }

    private static ProxyConfig base() {
        return config(null, null, NODES, null, null, null, null);
    }

    private static RoutingConfig lag(Duration lag) {
        return new RoutingConfig(lag, null, null, null, null, null, null, null, null, null, null, null, null);
    }

    @Test
    void sameFileChangesNothing() {
        ProxyConfig running = base();
        assertTrue(ConfigChanges.between(running, base()).isEmpty());
        assertEquals(running, ConfigChanges.effective(running, base()));
        assertTrue(ReloadReport.of(List.of(), NodeChanges.between(NODES, NODES), false).changedNothing());
    }

    @Test
    void reloadableKeysTakeTheNewValueOthersKeepTheRunningOne() {
        ProxyConfig running = base();
        ProxyConfig next = config(new HostPort("0.0.0.0", 7000), 5, NODES, null, lag(Duration.ofSeconds(2)), null,
                Map.of("io.pgrelay", "DEBUG"));
        ProxyConfig effective = ConfigChanges.effective(running, next);
        assertEquals(running.listen(), effective.listen(), "listen needs a restart");
        assertEquals(5, effective.maxClientConnections());
        assertEquals(Duration.ofSeconds(2), effective.routing().maxReplicaLag());
        assertEquals(Map.of("io.pgrelay", "debug"), effective.logLevels());

        ReloadReport report = ReloadReport.of(ConfigChanges.between(running, next),
                NodeChanges.between(running.nodes(), effective.nodes()), false);
        assertEquals(List.of("listen"), report.restartRequired());
        assertEquals(List.of(
                new ReloadReport.Applied("max-client-connections", "1000 -> 5"),
                new ReloadReport.Applied("routing.max-replica-lag", "10s -> 2s"),
                new ReloadReport.Applied("log-levels", "{} -> {io.pgrelay=debug}")), report.applied());
    }

    @Test
    void aSectionHalfReloadableIsMergedKeyByKey() {
        ProxyConfig running = config(null, null, NODES, null, null, new TlsConfig(null, null, null), null);
        ProxyConfig next = config(null, null, NODES, null, null,
                new TlsConfig(io.pgrelay.core.config.TlsMode.REQUIRE, "/etc/cert.pem", "/etc/key.pem"), null);
        ProxyConfig effective = ConfigChanges.effective(running, next);
        assertEquals(io.pgrelay.core.config.TlsMode.PREFER, effective.tls().mode(), "tls.mode needs a restart");
        assertEquals("/etc/cert.pem", effective.tls().cert());
        ReloadReport report = ReloadReport.of(ConfigChanges.between(running, next), NodeChanges.between(NODES, NODES),
                true);
        assertEquals(List.of("tls.mode"), report.restartRequired());
        assertEquals(List.of("tls"), report.applied().stream().map(ReloadReport.Applied::key).toList());
    }

    @Test
    void backendTlsKeysReloadAsOneEntryOtherBackendKeysNeedARestart() {
        ProxyConfig running = base();
        BackendConfig verifying = new BackendConfig(BackendTlsMode.VERIFY_FULL, Duration.ofSeconds(1), null, null,
                null, null, null, "/etc/ca.pem", "/etc/c.crt", "/etc/c.key");
        ProxyConfig next = new ProxyConfig(null, null, null, null, null, null, verifying, null, null, NODES, null,
                null, null, null, null, null, null);
        ProxyConfig effective = ConfigChanges.effective(running, next);
        assertEquals(BackendTlsMode.VERIFY_FULL, effective.backend().tls());
        assertEquals("/etc/ca.pem", effective.backend().tlsCa());
        assertEquals("/etc/c.key", effective.backend().tlsKey());
        assertEquals(Duration.ofSeconds(5), effective.backend().connectTimeout(), "connect-timeout needs a restart");

        ReloadReport report = ReloadReport.of(ConfigChanges.between(running, next), NodeChanges.between(NODES, NODES),
                false, true);
        assertEquals(List.of("backend.connect-timeout"), report.restartRequired());
        assertEquals(List.of("backend.tls"), report.applied().stream().map(ReloadReport.Applied::key).toList());
    }

    @Test
    void backendTlsFilesRenewedInPlaceAreReported() {
        ReloadReport report = ReloadReport.of(List.of(), NodeChanges.between(NODES, NODES), false, true);
        assertEquals(List.of("backend.tls"), report.applied().stream().map(ReloadReport.Applied::key).toList());
        assertTrue(report.restartRequired().isEmpty());
    }

    @Test
    void usersAreReportedByNameNeverWithTheirPassword() {
        AuthConfig before = new AuthConfig(null, List.of(new UserConfig("app", "secret1", null, null, null),
                new UserConfig("old", "x", null, null, null)));
        AuthConfig after = new AuthConfig(null, List.of(new UserConfig("app", "secret2", null, null, null),
                new UserConfig("new", "y", null, null, null)));
        ReloadReport report = ReloadReport.of(ConfigChanges.between(config(null, null, NODES, before, null, null, null),
                config(null, null, NODES, after, null, null, null)), NodeChanges.between(NODES, NODES), false);
        assertEquals(List.of(new ReloadReport.Applied("auth.users", "changed app, added new, removed old")),
                report.applied());
        assertFalse(report.summary().contains("secret"));
    }

    @Test
    void nodesAreAddedRemovedReaddressedAndReweighted() {
        List<NodeConfig> next = List.of(new NodeConfig("pg1", "127.0.0.1", 5432, 3),
                new NodeConfig("pg2", "127.0.0.1", 6433, null), new NodeConfig("pg3", "10.0.0.3", null, null));
        NodeChanges changes = NodeChanges.between(NODES, next);
        assertEquals(List.of("pg2"), changes.removed().stream().map(NodeConfig::name).toList());
        assertEquals(List.of("pg2", "pg3"), changes.added().stream().map(NodeConfig::name).toList());
        assertEquals(List.of(next.get(0)), changes.reweighted());
        assertEquals("removed pg2; added pg2 (127.0.0.1:6433); added pg3 (10.0.0.3:5432); pg1 weight 3",
                changes.describe());
    }

    @Test
    void anInvalidMergeIsAConfigError() {
        // Each file is valid alone; taking the reloadable key from one and the rest from the other must be too.
        assertThrows(ConfigException.class, () -> new TlsConfig(null, "/etc/cert.pem", null));
        assertTrue(ReloadableKeys.reloadable("routing.max-replica-lag"));
        assertTrue(ReloadableKeys.reloadable("tls.cert"));
        assertFalse(ReloadableKeys.reloadable("tls.mode"));
        assertFalse(ReloadableKeys.reloadable("routing-x"));
        assertFalse(ReloadableKeys.reloadable("pool.max-size"));
    }
}
