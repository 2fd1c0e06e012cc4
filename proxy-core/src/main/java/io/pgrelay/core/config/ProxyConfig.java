package io.pgrelay.core.config;

import java.time.Duration;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The whole, validated configuration. Absent keys take their defaults here, so every
 * accessor returns a usable value; the instance is immutable and swapped as a whole.
 */
public record ProxyConfig(
        HostPort listen,
        PoolMode poolMode,
        Integer workers,
        Integer maxClientConnections,
        Long maxMessageSize,
        TlsConfig tls,
        BackendConfig backend,
        PoolConfig pool,
        AdminConfig admin,
        List<NodeConfig> nodes,
        AuthConfig auth,
        MonitorConfig monitor,
        RoutingConfig routing,
        FailoverConfig failover,
        Duration shutdownTimeout,
        Boolean listenReusePort,
        Map<String, String> logLevels,
        LimitsConfig limits,
        CoordinationConfig coordination) {

    /** The logback levels {@code log-levels} may set; {@code root} names the root logger. */
    public static final List<String> LOG_LEVELS = List.of("trace", "debug", "info", "warn", "error", "off");

    public ProxyConfig {
        listen = orDefault(listen, new HostPort("127.0.0.1", 6432));
        poolMode = orDefault(poolMode, PoolMode.SESSION);
        workers = orDefault(workers, 0);
        maxClientConnections = orDefault(maxClientConnections, 1000);
        maxMessageSize = orDefault(maxMessageSize, 64L * 1024 * 1024);
        tls = orDefault(tls, new TlsConfig(null, null, null));
        backend = orDefault(backend, new BackendConfig(null, null, null, null, null, null, null, null, null, null));
        pool = orDefault(pool, new PoolConfig(null, null, null, null));
        admin = orDefault(admin, new AdminConfig(null, null, null));
        nodes = nodes == null ? List.of() : List.copyOf(nodes);
        auth = orDefault(auth, new AuthConfig(null, null));
        monitor = orDefault(monitor, new MonitorConfig(null, null, null, null, null, null, null, null));
        routing = orDefault(routing, RoutingConfig.defaults());
        failover = orDefault(failover, new FailoverConfig(null, null, null, null, null, null));
        shutdownTimeout = orDefault(shutdownTimeout, Duration.ofSeconds(30));
        listenReusePort = orDefault(listenReusePort, Boolean.TRUE);
        logLevels = logLevels == null ? Map.of() : normalizedLevels(logLevels);
        limits = orDefault(limits, LimitsConfig.defaults());
        coordination = orDefault(coordination, CoordinationConfig.STANDALONE);

        if (nodes.isEmpty()) {
            throw new ConfigException("nodes: at least one PostgreSQL node is required");
        }
        Set<String> names = new HashSet<>();
        for (NodeConfig node : nodes) {
            if (!names.add(node.name())) {
                throw new ConfigException("nodes: duplicate node name '" + node.name() + "'");
            }
        }
        if (workers < 0) {
            throw new ConfigException("workers must be >= 0 (0 = half the CPU cores, at least one)");
        }
        if (maxClientConnections < 1) {
            throw new ConfigException("max-client-connections must be >= 1");
        }
        if (maxMessageSize < 1024 || maxMessageSize > Integer.MAX_VALUE) {
            throw new ConfigException("max-message-size must be between 1kB and 2GB");
        }
        if (shutdownTimeout.isNegative()) {
            throw new ConfigException("shutdown-timeout must be >= 0");
        }
    }

    /** Sorted by logger name, levels in lower case; an unknown level is a configuration error. */
    private static Map<String, String> normalizedLevels(Map<String, String> levels) {
        Map<String, String> sorted = new TreeMap<>();
        for (Map.Entry<String, String> entry : levels.entrySet()) {
            String level = entry.getValue() == null ? "" : entry.getValue().trim().toLowerCase(Locale.ROOT);
            requireOneOf("log-levels." + entry.getKey(), level, LOG_LEVELS.toArray(String[]::new));
            sorted.put(entry.getKey(), level);
        }
        return Collections.unmodifiableMap(sorted);
    }

    /** Without {@code limits}: the defaults of {@link LimitsConfig}. */
    public ProxyConfig(HostPort listen, PoolMode poolMode, Integer workers, Integer maxClientConnections,
                       Long maxMessageSize, TlsConfig tls, BackendConfig backend, PoolConfig pool, AdminConfig admin,
                       List<NodeConfig> nodes, AuthConfig auth, MonitorConfig monitor, RoutingConfig routing,
                       FailoverConfig failover, Duration shutdownTimeout, Boolean listenReusePort,
                       Map<String, String> logLevels) {
        this(listen, poolMode, workers, maxClientConnections, maxMessageSize, tls, backend, pool, admin, nodes, auth,
                monitor, routing, failover, shutdownTimeout, listenReusePort, logLevels, null, null);
    }

    /** The maximum size of one protocol message, as an int for the codecs. */
    public int maxMessageBytes() {
        return maxMessageSize.intValue();
    }

    public NodeConfig node(String name) {
        for (NodeConfig node : nodes) {
            if (node.name().equals(name)) {
                return node;
            }
        }
        return null;
    }

    static <T> T orDefault(T value, T fallback) {
        return value != null ? value : fallback;
    }

    /**
     * TLS toward clients. Without cert and key a self-signed certificate is generated at start;
     * with them, a reload (SIGHUP, POST /api/v1/reload) reads the files again and new connections
     * use a changed pair.
     */
    public record TlsConfig(TlsMode mode, String cert, String key) {
        public TlsConfig {
            mode = orDefault(mode, TlsMode.PREFER);
            if ((cert == null) != (key == null)) {
                throw new ConfigException("tls: cert and key must be given together");
            }
        }
    }

    /**
     * Connections to the PostgreSQL servers. {@code queryTimeout} (0 = none): a backend that sends
     * nothing for that long while a request is outstanding is cancelled, closed and its replica
     * banned, so a frozen server cannot hold a client forever; the keepalive settings make the
     * kernel notice a peer that vanished from the network.
     *
     * <p>TLS, as libpq's {@code sslmode}, {@code sslrootcert}, {@code sslcert} and {@code sslkey}:
     * {@code tlsCa} (a PEM bundle) is what {@code verify-ca} and {@code verify-full} trust, and as
     * libpq has no default for it neither has pgrelay; {@code tlsCert} and {@code tlsKey} (PEM) are
     * the client certificate shown to servers that ask for one. A reload re-reads the three files.
     */
    public record BackendConfig(BackendTlsMode tls, Duration connectTimeout, String applicationName,
                                Duration queryTimeout, Duration keepaliveIdle, Duration keepaliveInterval,
                                Integer keepaliveCount, String tlsCa, String tlsCert, String tlsKey) {
        public BackendConfig {
            tls = orDefault(tls, BackendTlsMode.DISABLE);
            connectTimeout = orDefault(connectTimeout, Duration.ofSeconds(5));
            applicationName = orDefault(applicationName, "pgrelay");
            queryTimeout = orDefault(queryTimeout, Duration.ZERO);
            keepaliveIdle = orDefault(keepaliveIdle, Duration.ofSeconds(30));
            keepaliveInterval = orDefault(keepaliveInterval, Duration.ofSeconds(10));
            keepaliveCount = orDefault(keepaliveCount, 3);
            if (queryTimeout.isNegative()) {
                throw new ConfigException("backend.query-timeout must not be negative");
            }
            if (keepaliveIdle.toSeconds() < 1 || keepaliveInterval.toSeconds() < 1 || keepaliveCount < 1) {
                throw new ConfigException("backend.keepalive-idle and keepalive-interval must be at least 1s, "
                        + "keepalive-count at least 1");
            }
            checkTls(tls, tlsCa, tlsCert, tlsKey);
        }

        /** Without TLS files: no CA, no client certificate. */
        public BackendConfig(BackendTlsMode tls, Duration connectTimeout, String applicationName,
                             Duration queryTimeout, Duration keepaliveIdle, Duration keepaliveInterval,
                             Integer keepaliveCount) {
            this(tls, connectTimeout, applicationName, queryTimeout, keepaliveIdle, keepaliveInterval, keepaliveCount,
                    null, null, null);
        }

        private static void checkTls(BackendTlsMode tls, String ca, String cert, String key) {
            if ((cert == null) != (key == null)) {
                throw new ConfigException("backend.tls-cert and backend.tls-key must be given together");
            }
            if (tls.verifiesCertificate() && ca == null) {
                throw new ConfigException("backend.tls-ca is required with backend.tls " + tls.configName()
                        + ": the PEM file of the CA certificate(s) that signed the servers' certificates "
                        + "(as libpq's sslrootcert; there is no default trust store)");
            }
            if (ca != null && !tls.verifiesCertificate()) {
                // libpq silently verifies under require when a root certificate exists; say it instead.
                throw new ConfigException("backend.tls-ca is only used by backend.tls verify-ca or verify-full; with "
                        + tls.configName() + " the server certificate is not checked");
            }
            if (cert != null && !tls.requested()) {
                throw new ConfigException("backend.tls-cert and backend.tls-key need TLS: backend.tls is disable");
            }
        }
    }

    /** One backend pool per (node, user, database). */
    public record PoolConfig(Integer maxSize, Duration idleTimeout, Duration acquireTimeout, String resetQuery) {
        public PoolConfig {
            maxSize = orDefault(maxSize, 50);
            idleTimeout = orDefault(idleTimeout, Duration.ofMinutes(5));
            acquireTimeout = orDefault(acquireTimeout, Duration.ofSeconds(10));
            resetQuery = orDefault(resetQuery, "DISCARD ALL");
            if (maxSize < 1) {
                throw new ConfigException("pool.max-size must be >= 1");
            }
        }
    }

    /** REST API, metrics and the SQL console. */
    public record AdminConfig(HostPort listen, String token, List<String> consoleUsers) {
        public AdminConfig {
            listen = orDefault(listen, new HostPort("127.0.0.1", 6480));
            consoleUsers = consoleUsers == null ? null : List.copyOf(consoleUsers);
        }
    }

    /** A PostgreSQL server. Its role (primary or replica) is discovered, never configured. */
    public record NodeConfig(String name, String host, Integer port, Integer weight) {
        public NodeConfig {
            if (name == null || name.isBlank()) {
                throw new ConfigException("nodes: every node needs a name");
            }
            if (host == null || host.isBlank()) {
                throw new ConfigException("nodes." + name + ": host is required");
            }
            port = orDefault(port, 5432);
            weight = orDefault(weight, 1);
            if (weight < 0) {
                throw new ConfigException("nodes." + name + ": weight must be >= 0");
            }
        }
    }

    /** Client-facing users. By default pgrelay logs in to backends as the same user and password. */
    public record AuthConfig(AuthMethod method, List<UserConfig> users) {
        public AuthConfig {
            method = orDefault(method, AuthMethod.SCRAM_SHA_256);
            users = users == null ? List.of() : List.copyOf(users);
            Set<String> seen = new HashSet<>();
            for (UserConfig user : users) {
                if (!seen.add(user.name())) {
                    throw new ConfigException("auth.users: duplicate user '" + user.name() + "'");
                }
            }
        }

        public UserConfig user(String name) {
            for (UserConfig user : users) {
                if (user.name().equals(name)) {
                    return user;
                }
            }
            return null;
        }
    }

    /**
     * A client-facing user. {@code password} is what the client must present; it may be a
     * plain password or a stored SCRAM / md5 verifier, in which case {@code backend-password}
     * is needed to log in to the backends.
     */
    public record UserConfig(String name, String password, String backendUser, String backendPassword, AuthMethod method) {
        public UserConfig {
            if (name == null || name.isBlank()) {
                throw new ConfigException("auth.users: every user needs a name");
            }
            password = orDefault(password, "");
        }

        public String effectiveBackendUser() {
            return backendUser != null ? backendUser : name;
        }
    }

    /** Credentials and cadence of the health and lag monitor. */
    /**
     * The health and lag monitor. A probe without an answer within {@code queryTimeout} is aborted;
     * a replica that times out is banned from reads for {@code banTime} at once (see Ban).
     */
    public record MonitorConfig(String user, String password, String database, Duration interval,
                                Duration connectTimeout, Duration queryTimeout, Integer failureThreshold,
                                Duration banTime) {
        public MonitorConfig {
            user = orDefault(user, "postgres");
            password = orDefault(password, "");
            database = orDefault(database, "postgres");
            interval = orDefault(interval, Duration.ofSeconds(1));
            connectTimeout = orDefault(connectTimeout, Duration.ofSeconds(2));
            queryTimeout = orDefault(queryTimeout, Duration.ofSeconds(2));
            failureThreshold = orDefault(failureThreshold, 3);
            banTime = orDefault(banTime, Duration.ofSeconds(30));
            if (interval.toMillis() < 50) {
                throw new ConfigException("monitor.interval must be at least 50ms");
            }
            if (failureThreshold < 1) {
                throw new ConfigException("monitor.failure-threshold must be >= 1");
            }
        }
    }

    /** Read/write routing. */
    public record RoutingConfig(Duration maxReplicaLag, Long maxReplicaLagBytes, String consistency, String fallback,
                                String balance, String transactionReads, List<String> writeFunctions,
                                List<String> readOnlyFunctions, Integer maxStatementLength, Integer maxScanLength,
                                Integer cacheSize, Boolean readsToReplicas, Duration globalWait) {
        public RoutingConfig {
            maxReplicaLag = orDefault(maxReplicaLag, Duration.ofSeconds(10));
            maxReplicaLagBytes = orDefault(maxReplicaLagBytes, 16L * 1024 * 1024);
            consistency = orDefault(consistency, "eventual");
            fallback = orDefault(fallback, "primary");
            balance = orDefault(balance, "round-robin");
            transactionReads = orDefault(transactionReads, "primary");
            writeFunctions = writeFunctions == null ? List.of() : List.copyOf(writeFunctions);
            readOnlyFunctions = readOnlyFunctions == null ? List.of() : List.copyOf(readOnlyFunctions);
            maxStatementLength = orDefault(maxStatementLength, 64 * 1024);
            maxScanLength = orDefault(maxScanLength, Math.max(16 * 1024 * 1024, maxStatementLength));
            cacheSize = orDefault(cacheSize, 10_000);
            readsToReplicas = orDefault(readsToReplicas, Boolean.TRUE);
            globalWait = orDefault(globalWait, Duration.ofMillis(100));
            requireOneOf("routing.consistency", consistency, "eventual", "causal", "global");
            if (globalWait.isNegative()) {
                throw new ConfigException("routing.global-wait must be >= 0");
            }
            requireOneOf("routing.fallback", fallback, "primary", "error");
            requireOneOf("routing.balance", balance, "round-robin", "least-outstanding");
            requireOneOf("routing.transaction-reads", transactionReads, "primary", "first-statement");
            if (cacheSize < 0) {
                throw new ConfigException("routing.cache-size must be >= 0 (0 = no cache)");
            }
            if (maxStatementLength < 1 || maxScanLength < maxStatementLength) {
                throw new ConfigException("routing.max-statement-length must be >= 1 and routing.max-scan-length "
                        + "at least as large");
            }
        }

        static RoutingConfig defaults() {
            return new RoutingConfig(null, null, null, null, null, null, null, null, null, null, null, null, null);
        }
    }

    /**
     * Failover and switchover.
     *
     * @param automatic         promote a replica when the primary is down
     * @param detect            consecutive failed monitor probes of the primary before an automatic failover
     * @param hooks             shell commands run on node-down, failover and switchover events
     * @param hookTimeout       how long one hook may run before it is killed
     * @param switchoverTimeout how long a switchover waits for in-flight transactions and replay
     * @param clientWait        how long client statements wait for a primary (failover, switchover)
     */
    public record FailoverConfig(Boolean automatic, Integer detect, List<String> hooks, Duration hookTimeout,
                                 Duration switchoverTimeout, Duration clientWait) {
        public FailoverConfig {
            automatic = orDefault(automatic, Boolean.TRUE);
            clientWait = orDefault(clientWait, Duration.ofSeconds(15));
            detect = orDefault(detect, 3);
            hooks = hooks == null ? List.of() : List.copyOf(hooks);
            hookTimeout = orDefault(hookTimeout, Duration.ofSeconds(30));
            switchoverTimeout = orDefault(switchoverTimeout, Duration.ofSeconds(10));
            if (detect < 1) {
                throw new ConfigException("failover.detect must be >= 1");
            }
            if (hookTimeout.isZero() || hookTimeout.isNegative()) {
                throw new ConfigException("failover.hook-timeout must be positive");
            }
            if (switchoverTimeout.isZero() || switchoverTimeout.isNegative()) {
                throw new ConfigException("failover.switchover-timeout must be positive");
            }
        }
    }

    static void requireOneOf(String key, String value, String... allowed) {
        for (String candidate : allowed) {
            if (candidate.equals(value)) {
                return;
            }
        }
        throw new ConfigException(key + ": '" + value + "' is not one of " + String.join(" | ", allowed));
    }
}
