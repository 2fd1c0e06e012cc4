package io.pgrelay.core.session;

import io.pgrelay.core.classify.Classification;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * What a client session has established that outlives a statement: settings, prepared
 * statements (protocol and SQL level), and the state that only exists on the server that
 * created it and so pins the session to the primary (temporary objects, LISTEN, session
 * advisory locks, WITH HOLD cursors, untracked settings).
 */
final class SessionState {
    /** Where a session's statements may go, as chosen with {@code pgrelay.route}. */
    enum RouteOverride { AUTO, PRIMARY, REPLICA }

    static final int PIN_TEMP = 1;
    static final int PIN_LISTEN = 2;
    static final int PIN_ADVISORY = 4;
    static final int PIN_HOLD_CURSOR = 8;
    static final int PIN_UNTRACKED = 16;

    final SessionSettings settings;
    private final Map<String, PreparedStatement> statements = new HashMap<>();
    private final Map<String, SqlPrepared> sqlPrepared = new HashMap<>();
    private final Set<String> holdCursors = new HashSet<>();
    private final Set<String> channels = new HashSet<>();
    private int pins;
    private RouteOverride routeOverride = RouteOverride.AUTO;

    /** A protocol-level prepared statement of this session. */
    record PreparedStatement(StatementIdentity identity, Classification classification) {
    }

    /** A statement prepared with SQL PREPARE: its text (to replay elsewhere) and route. */
    record SqlPrepared(String name, String prepareSql, boolean primaryOnly) {
    }

    SessionState(SessionSettings settings) {
        this.settings = settings;
    }

    // ---- protocol-level statements

    PreparedStatement statement(String name) {
        return statements.get(name);
    }

    void putStatement(String name, PreparedStatement statement) {
        statements.put(name, statement);
    }

    void removeStatement(String name) {
        statements.remove(name);
    }

    // ---- SQL-level statements

    SqlPrepared sqlPrepared(String name) {
        return sqlPrepared.get(name.toLowerCase(Locale.ROOT));
    }

    void putSqlPrepared(SqlPrepared prepared) {
        sqlPrepared.put(prepared.name().toLowerCase(Locale.ROOT), prepared);
    }

    void removeSqlPrepared(String nameOrNullForAll) {
        if (nameOrNullForAll == null) {
            sqlPrepared.clear();
        } else {
            sqlPrepared.remove(nameOrNullForAll.toLowerCase(Locale.ROOT));
        }
    }

    // ---- pins

    boolean pinned() {
        return pins != 0;
    }

    int pins() {
        return pins;
    }

    void pin(int pin) {
        pins |= pin;
    }

    void unpin(int pin) {
        pins &= ~pin;
    }

    void listen(String channel) {
        channels.add(channel);
        pin(PIN_LISTEN);
    }

    void unlisten(String channelOrNullForAll) {
        if (channelOrNullForAll == null) {
            channels.clear();
        } else {
            channels.remove(channelOrNullForAll);
        }
        if (channels.isEmpty()) {
            unpin(PIN_LISTEN);
        }
    }

    void declareHoldCursor(String name) {
        holdCursors.add(name.toLowerCase(Locale.ROOT));
        pin(PIN_HOLD_CURSOR);
    }

    void closeCursor(String nameOrNullForAll) {
        if (nameOrNullForAll == null) {
            holdCursors.clear();
        } else {
            holdCursors.remove(nameOrNullForAll.toLowerCase(Locale.ROOT));
        }
        if (holdCursors.isEmpty()) {
            unpin(PIN_HOLD_CURSOR);
        }
    }

    /** DISCARD ALL: the server forgets everything the session set up. */
    void discardAll() {
        pins = 0;
        channels.clear();
        holdCursors.clear();
        sqlPrepared.clear();
        statements.clear();
    }

    RouteOverride routeOverride() {
        return routeOverride;
    }

    void routeOverride(RouteOverride override) {
        this.routeOverride = override;
    }

    String describePins() {
        StringBuilder sb = new StringBuilder();
        if ((pins & PIN_TEMP) != 0) {
            sb.append("temporary objects ");
        }
        if ((pins & PIN_LISTEN) != 0) {
            sb.append("LISTEN ");
        }
        if ((pins & PIN_ADVISORY) != 0) {
            sb.append("advisory locks ");
        }
        if ((pins & PIN_HOLD_CURSOR) != 0) {
            sb.append("WITH HOLD cursors ");
        }
        if ((pins & PIN_UNTRACKED) != 0) {
            sb.append("untracked settings ");
        }
        return sb.toString().trim();
    }
}
