package io.pgrelay.core.config;

import java.time.Duration;
import java.util.Map;

/**
 * Limits on what one client may hold: connections per user and per database (counted after a
 * client authenticated, as the server counts a role's CONNECTION LIMIT), how long a client may
 * take to start up and authenticate, and how long it may stay idle.
 *
 * @param maxConnectionsPerUser     connections of any one user; 0 = no limit
 * @param maxConnectionsPerDatabase connections to any one database; 0 = no limit
 * @param users                     per-user limits, overriding {@code maxConnectionsPerUser}
 * @param databases                 per-database limits, overriding {@code maxConnectionsPerDatabase}
 * @param clientStartupTimeout      from accept to authenticated (slow clients and slow-loris); never 0
 * @param clientIdleTimeout         idle outside a transaction before the client is ended; 0 = never
 * @param clientIdleInTransactionTimeout idle inside a transaction before the client is ended; 0 = never
 */
public record LimitsConfig(Integer maxConnectionsPerUser, Integer maxConnectionsPerDatabase,
                           Map<String, Integer> users, Map<String, Integer> databases,
                           Duration clientStartupTimeout, Duration clientIdleTimeout,
                           Duration clientIdleInTransactionTimeout) {
    public LimitsConfig {
        maxConnectionsPerUser = ProxyConfig.orDefault(maxConnectionsPerUser, 0);
        maxConnectionsPerDatabase = ProxyConfig.orDefault(maxConnectionsPerDatabase, 0);
        users = users == null ? Map.of() : Map.copyOf(users);
        databases = databases == null ? Map.of() : Map.copyOf(databases);
        clientStartupTimeout = ProxyConfig.orDefault(clientStartupTimeout, Duration.ofSeconds(10));
        clientIdleTimeout = ProxyConfig.orDefault(clientIdleTimeout, Duration.ZERO);
        clientIdleInTransactionTimeout = ProxyConfig.orDefault(clientIdleInTransactionTimeout, Duration.ZERO);
        atLeastZero("limits.max-connections-per-user", maxConnectionsPerUser);
        atLeastZero("limits.max-connections-per-database", maxConnectionsPerDatabase);
        users.forEach((name, limit) -> atLeastZero("limits.users." + name, limit));
        databases.forEach((name, limit) -> atLeastZero("limits.databases." + name, limit));
        if (clientStartupTimeout.toMillis() < 100) {
            throw new ConfigException("limits.client-startup-timeout must be at least 100ms");
        }
        if (clientIdleTimeout.isNegative() || clientIdleInTransactionTimeout.isNegative()) {
            throw new ConfigException("limits: idle timeouts must be >= 0 (0 = off)");
        }
    }

    static LimitsConfig defaults() {
        return new LimitsConfig(null, null, null, null, null, null, null);
    }

    /** The defaults: no connection limits, the default startup timeout, no idle timeouts. */
    public static LimitsConfig unlimited() {
        return defaults();
    }

    private static void atLeastZero(String key, Integer value) {
        if (value == null || value < 0) {
            throw new ConfigException(key + " must be >= 0 (0 = no limit)");
        }
    }

    /** The connection limit of {@code user}; 0 = none. */
    public int userLimit(String user) {
        return users.getOrDefault(user, maxConnectionsPerUser);
    }

    /** The connection limit of {@code database}; 0 = none. */
    public int databaseLimit(String database) {
        return databases.getOrDefault(database, maxConnectionsPerDatabase);
    }
}
