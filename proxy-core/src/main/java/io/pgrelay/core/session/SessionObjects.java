package io.pgrelay.core.session;

import io.pgrelay.core.backend.StatementIdentity;
import io.pgrelay.core.classify.Classification;
import io.pgrelay.core.classify.Route;

import java.util.Collection;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * What a client session has created that outlives a statement, besides settings: prepared
 * statements (protocol and SQL level), and the state that exists only on the server that
 * created it and so pins the session to the primary (temporary objects, LISTEN, session
 * advisory locks, WITH HOLD cursors, settings pgrelay cannot replay).
 */
final class SessionObjects {
    /** Why a session must stay on the primary. */
    enum Pin { TEMPORARY_OBJECTS, LISTEN, ADVISORY_LOCKS, HOLD_CURSORS, UNTRACKED_SETTINGS, LOADED_LIBRARY }

    /** A protocol-level prepared statement of this session. */
    record PreparedStatement(StatementIdentity identity, Classification classification) {
    }

    /** A statement prepared with SQL PREPARE: its text (to prepare it elsewhere) and where it may run. */
    record SqlPrepared(String name, String prepareSql, Route route) {
    }

    // Empty and shared until first used: see LazyCollections.
    private Map<String, PreparedStatement> statements = Collections.emptyMap();
    private PreparedStatement unnamed;
    private Map<String, SqlPrepared> sqlPrepared = Collections.emptyMap();
    private Set<String> holdCursors = Collections.emptySet();
    private Set<String> channels = Collections.emptySet();
    private final EnumSet<Pin> pins = EnumSet.noneOf(Pin.class);

    // ---- protocol-level statements; "" is the unnamed statement

    PreparedStatement statement(String name) {
        return name.isEmpty() ? unnamed : statements.get(name);
    }

    void putStatement(String name, PreparedStatement statement) {
        if (name.isEmpty()) {
            unnamed = statement;
        } else {
            statements = LazyCollections.writable(statements);
            statements.put(name, statement);
        }
    }

    void removeStatement(String name) {
        if (name.isEmpty()) {
            unnamed = null;
        } else {
            statements.remove(name);
        }
    }

    /** A simple Query replaces the unnamed statement. */
    void unnamedReplaced() {
        unnamed = null;
    }

    Collection<PreparedStatement> namedStatements() {
        return statements.values();
    }

    // ---- SQL-level statements

    SqlPrepared sqlPrepared(String name) {
        return sqlPrepared.get(name.toLowerCase(Locale.ROOT));
    }

    void putSqlPrepared(SqlPrepared prepared) {
        sqlPrepared = LazyCollections.writable(sqlPrepared);
        sqlPrepared.put(prepared.name().toLowerCase(Locale.ROOT), prepared);
    }

    /** DEALLOCATE name; null for ALL. */
    void removeSqlPrepared(String name) {
        if (name == null) {
            sqlPrepared.clear();
        } else {
            sqlPrepared.remove(name.toLowerCase(Locale.ROOT));
        }
    }

    Collection<SqlPrepared> sqlStatements() {
        return sqlPrepared.values();
    }

    // ---- pins

    boolean pinned() {
        return !pins.isEmpty();
    }

    Set<Pin> pins() {
        return EnumSet.copyOf(pins);
    }

    void pin(Pin pin) {
        pins.add(pin);
    }

    void unpin(Pin pin) {
        pins.remove(pin);
    }

    void listen(String channel) {
        channels = LazyCollections.writable(channels);
        channels.add(channel);
        pin(Pin.LISTEN);
    }

    /** UNLISTEN channel; null for *. */
    void unlisten(String channel) {
        if (channel == null) {
            channels.clear();
        } else {
            channels.remove(channel);
        }
        if (channels.isEmpty()) {
            unpin(Pin.LISTEN);
        }
    }

    void declareHoldCursor(String name) {
        holdCursors = LazyCollections.writable(holdCursors);
        holdCursors.add(name.toLowerCase(Locale.ROOT));
        pin(Pin.HOLD_CURSORS);
    }

    /** CLOSE name; null for ALL. */
    void closeCursor(String name) {
        if (name == null) {
            holdCursors.clear();
        } else {
            holdCursors.remove(name.toLowerCase(Locale.ROOT));
        }
        if (holdCursors.isEmpty()) {
            unpin(Pin.HOLD_CURSORS);
        }
    }

    /** DISCARD ALL: the server forgets everything the session set up. */
    void discardAll() {
        pins.clear();
        channels.clear();
        holdCursors.clear();
        sqlPrepared.clear();
        statements.clear();
        unnamed = null;
    }
}
