package io.pgrelay.core.session;

import io.netty.channel.Channel;
import io.pgrelay.core.config.LimitsConfig;
import io.pgrelay.protocol.PgProtocolException;
import io.pgrelay.protocol.SqlState;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts authenticated clients per user and per database against {@code limits}, as the server
 * counts a role's and a database's CONNECTION LIMIT: after authentication, so that a client who
 * does not know the password cannot take a user's connections. A refused client gets what the
 * server would send: FATAL 53300 "too many connections for role ...".
 */
public final class ConnectionLimits {
    private final LimitsConfig limits;
    private final ConcurrentHashMap<String, AtomicInteger> perUser;
    private final ConcurrentHashMap<String, AtomicInteger> perDatabase;

    public ConnectionLimits(LimitsConfig limits) {
        this(limits, new ConcurrentHashMap<>(), new ConcurrentHashMap<>());
    }

    private ConnectionLimits(LimitsConfig limits, ConcurrentHashMap<String, AtomicInteger> perUser,
                             ConcurrentHashMap<String, AtomicInteger> perDatabase) {
        this.limits = limits;
        this.perUser = perUser;
        this.perDatabase = perDatabase;
    }

    /**
     * The same counts under {@code next} (a reload): clients already in keep their place and are
     * counted against the new limits, which, as a lowered CONNECTION LIMIT on the server, end no
     * one and refuse new clients until the count is below the limit.
     */
    public ConnectionLimits withLimits(LimitsConfig next) {
        return new ConnectionLimits(next, perUser, perDatabase);
    }

    /** Counts the channel against its user's and database's limits until it closes, or throws 53300. */
    void admit(Channel channel, String user, String database) {
        AtomicInteger userCount = take(perUser, user, limits.userLimit(user));
        if (userCount == null) {
            throw new PgProtocolException(SqlState.TOO_MANY_CONNECTIONS, "too many connections for role \"" + user + "\"");
        }
        AtomicInteger databaseCount = take(perDatabase, database, limits.databaseLimit(database));
        if (databaseCount == null) {
            userCount.decrementAndGet();
            throw new PgProtocolException(SqlState.TOO_MANY_CONNECTIONS,
                    "too many connections for database \"" + database + "\"");
        }
        channel.closeFuture().addListener(f -> {
            userCount.decrementAndGet();
            databaseCount.decrementAndGet();
        });
    }

    /** The counter, incremented; null when that would exceed {@code limit} (0 = none). */
    private static AtomicInteger take(ConcurrentHashMap<String, AtomicInteger> counts, String name, int limit) {
        AtomicInteger count = counts.computeIfAbsent(name, n -> new AtomicInteger());
        if (count.incrementAndGet() > limit && limit > 0) {
            count.decrementAndGet();
            return null;
        }
        return count;
    }

    /** Connections of {@code user} counted now (for tests and the console). */
    public int connectionsOf(String user) {
        AtomicInteger count = perUser.get(user);
        return count == null ? 0 : count.get();
    }
}
