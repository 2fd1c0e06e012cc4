package io.pgrelay.core.config;

import java.net.URI;
import java.time.Duration;
import java.util.List;

/**
 * How several pgrelay instances of one cluster find each other (README "Configuration reference").
 * Without {@code etcd} the instance runs alone, exactly as before coordination existed. A
 * restart-only key: a reload reports a change of it as needing a restart.
 *
 * @param etcd the etcd cluster the instances coordinate through; null = standalone
 */
public record CoordinationConfig(EtcdConfig etcd) {
    /** No coordination: one instance, deciding alone. */
    public static final CoordinationConfig STANDALONE = new CoordinationConfig(null);

    public boolean enabled() {
        return etcd != null;
    }

    /**
     * An etcd cluster and where in its key space this pgrelay cluster lives.
     *
     * @param endpoints client URLs of the etcd members ({@code http://10.0.0.1:2379}); any member will do
     * @param prefix    the keys of this pgrelay cluster live under it ({@code /pgrelay/main}); required, so two
     *                  pgrelay clusters sharing an etcd never share their keys by accident
     * @param ttl       lease of an instance's registration: it disappears this long after it stopped renewing
     * @param user      etcd user (RBAC); with {@code password} (or {@code password-file})
     */
    public record EtcdConfig(List<String> endpoints, String prefix, Duration ttl, String user, String password) {
        /** etcd grants leases in whole seconds and rejects a TTL shorter than about 1.5 election timeouts. */
        public static final Duration MIN_TTL = Duration.ofSeconds(2);

        public EtcdConfig {
            endpoints = endpoints == null ? List.of() : List.copyOf(endpoints);
            ttl = ProxyConfig.orDefault(ttl, Duration.ofSeconds(5));
            if (endpoints.isEmpty()) {
                throw new ConfigException("coordination.etcd.endpoints: at least one etcd endpoint is required");
            }
            for (String endpoint : endpoints) {
                checkEndpoint(endpoint);
            }
            if (prefix == null || !prefix.startsWith("/") || prefix.isBlank() || prefix.equals("/")) {
                throw new ConfigException("coordination.etcd.prefix: required, an absolute key path such as "
                        + "/pgrelay/<cluster-name> (got " + (prefix == null ? "none" : "'" + prefix + "'") + ")");
            }
            prefix = prefix.endsWith("/") ? prefix.substring(0, prefix.length() - 1) : prefix;
            if (ttl.compareTo(MIN_TTL) < 0) {
                throw new ConfigException("coordination.etcd.ttl must be at least " + MIN_TTL.toSeconds() + "s");
            }
            if (ttl.toNanos() % 1_000_000_000L != 0) {
                throw new ConfigException("coordination.etcd.ttl must be whole seconds (etcd leases are)");
            }
            if ((user == null) != (password == null)) {
                throw new ConfigException("coordination.etcd: user and password must be given together");
            }
        }

        private static void checkEndpoint(String endpoint) {
            URI uri;
            try {
                uri = endpoint == null ? null : URI.create(endpoint.strip());
            } catch (IllegalArgumentException e) {
                uri = null;
            }
            if (uri != null && "https".equals(uri.getScheme())) {
                throw new ConfigException("coordination.etcd.endpoints: '" + endpoint
                        + "': TLS toward etcd is not supported yet; use http:// endpoints");
            }
            if (uri == null || uri.getHost() == null || uri.getPort() < 0 || !"http".equals(uri.getScheme())) {
                throw new ConfigException("coordination.etcd.endpoints: '" + endpoint
                        + "' is not an etcd client URL such as http://127.0.0.1:2379");
            }
        }

        /** The key under which every instance registers itself. */
        public String membersPrefix() {
            return prefix + "/members/";
        }
    }
}
