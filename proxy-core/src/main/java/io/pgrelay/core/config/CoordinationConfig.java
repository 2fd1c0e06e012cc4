package io.pgrelay.core.config;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * How several pgrelay instances of one cluster find each other (README "Configuration reference").
 * Without {@code etcd} the instance runs alone, exactly as before coordination existed. A
 * restart-only key: a reload reports a change of it as needing a restart.
 *
 * @param etcd          the etcd cluster the instances coordinate through; null = standalone
 * @param advertiseHost where the other instances reach this one's client listener (a cancel request
 *                      for one of its sessions is forwarded there); null = the listen host, or for a
 *                      wildcard listen host this machine's first non-loopback address
 */
public record CoordinationConfig(EtcdConfig etcd, String advertiseHost) {
    /** No coordination: one instance, deciding alone. */
    public static final CoordinationConfig STANDALONE = new CoordinationConfig(null, null);

    public CoordinationConfig {
        if (advertiseHost != null && (advertiseHost.isBlank() || advertiseHost.strip().contains(" "))) {
            throw new ConfigException("coordination.advertise-host: a host name or address, got '" + advertiseHost
                    + "'");
        }
        if (advertiseHost != null) {
            String host = advertiseHost.strip();
            // written as in a host:port ([::1]) or bare: kept bare, HostPort brackets it again
            advertiseHost = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        }
    }

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
     * @param tlsCa     PEM CA bundle that signed the etcd members' certificates ({@code https://} endpoints);
     *                  null = the JVM's default trust store
     * @param tlsCert   client certificate (PEM) for an etcd that checks its clients, with {@code tlsKey}
     * @param tlsKey    its private key (PEM, PKCS#8)
     */
    public record EtcdConfig(List<String> endpoints, String prefix, Duration ttl, String user, String password,
                             String tlsCa, String tlsCert, String tlsKey) {
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
            checkTls(endpoints, tlsCa, tlsCert, tlsKey);
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

        /** Without TLS: the five keys every plain-text setup names. */
        public EtcdConfig(List<String> endpoints, String prefix, Duration ttl, String user, String password) {
            this(endpoints, prefix, ttl, user, password, null, null, null);
        }

        /** Whether the endpoints are {@code https://}: all of them are, or none (checked). */
        public boolean tls() {
            return endpoints.get(0).strip().startsWith("https:");
        }

        private static void checkTls(List<String> endpoints, String ca, String cert, String key) {
            long secure = endpoints.stream().filter(e -> e.strip().startsWith("https:")).count();
            if (secure != 0 && secure != endpoints.size()) {
                throw new ConfigException("coordination.etcd.endpoints: all https:// or all http://, not both "
                        + "(one etcd cluster serves its clients one way)");
            }
            if ((cert == null) != (key == null)) {
                throw new ConfigException("coordination.etcd.tls-cert and coordination.etcd.tls-key must be given together");
            }
            if (secure == 0 && (ca != null || cert != null)) {
                throw new ConfigException("coordination.etcd.tls-ca, tls-cert and tls-key need https:// endpoints");
            }
            for (String file : new String[] {ca, cert, key}) {
                if (file != null && !Files.isReadable(Path.of(file))) {
                    throw new ConfigException("coordination.etcd: cannot read TLS file " + file);
                }
            }
        }

        private static void checkEndpoint(String endpoint) {
            URI uri;
            try {
                uri = endpoint == null ? null : URI.create(endpoint.strip());
            } catch (IllegalArgumentException e) {
                uri = null;
            }
            if (uri == null || uri.getHost() == null || uri.getPort() < 0
                    || !("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))) {
                throw new ConfigException("coordination.etcd.endpoints: '" + endpoint
                        + "' is not an etcd client URL such as http://127.0.0.1:2379 or https://10.0.0.1:2379");
            }
        }

        /** The key under which every instance registers itself. */
        public String membersPrefix() {
            return prefix + "/members/";
        }

        /** The keys by which instances hold their cancel-key slot ({@code <prefix>/slots/<n>}, under their lease). */
        public String slotsPrefix() {
            return prefix + "/slots/";
        }

        /** The leader key: the id of the instance that runs failover and operations, under its lease. */
        public String leaderKey() {
            return prefix + "/leader";
        }

        /** Where each instance publishes its health report, under its lease. */
        public String healthPrefix() {
            return prefix + "/health/";
        }

        /** The cluster record every instance routes by, written by the leader only. */
        public String clusterKey() {
            return prefix + "/cluster";
        }
    }
}
