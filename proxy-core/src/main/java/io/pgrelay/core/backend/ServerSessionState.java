package io.pgrelay.core.backend;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * What pgrelay established on one server connection on behalf of the sessions that used it:
 * the settings applied, and the prepared statements that exist there (protocol-level, named and
 * unnamed, and SQL-level). A session compares this with its own state before it sends work and
 * replays what differs. Confined to the connection's event loop.
 */
public final class ServerSessionState {
    private AppliedSettings settings = AppliedSettings.PRISTINE;
    private final Map<String, StatementIdentity> statements = new HashMap<>();
    private StatementIdentity unnamed;
    private final Map<String, String> sqlStatements = new HashMap<>();

    public AppliedSettings settings() {
        return settings;
    }

    public void settings(AppliedSettings applied) {
        this.settings = applied;
    }

    /** The protocol-level statement with this name here; the unnamed one for "". */
    public StatementIdentity statement(String name) {
        return name.isEmpty() ? unnamed : statements.get(name);
    }

    public boolean hasStatement(String name) {
        return name.isEmpty() ? unnamed != null : statements.containsKey(name);
    }

    public void statementParsed(String name, StatementIdentity identity) {
        if (name.isEmpty()) {
            unnamed = identity;
        } else {
            statements.put(name, identity);
        }
    }

    public void statementClosed(String name) {
        if (name.isEmpty()) {
            unnamed = null;
        } else {
            statements.remove(name);
        }
    }

    /** A simple Query replaces the unnamed statement (the server uses it for the query). */
    public void unnamedReplaced() {
        unnamed = null;
    }

    /** The names of the named protocol-level statements here. */
    public java.util.Set<String> statementNames() {
        return java.util.Set.copyOf(statements.keySet());
    }

    /** The names (lower case) of the SQL-level prepared statements here. */
    public java.util.Set<String> sqlStatementNames() {
        return java.util.Set.copyOf(sqlStatements.keySet());
    }

    /** The text a SQL-level prepared statement was prepared with here, or null. */
    public String sqlStatement(String name) {
        return sqlStatements.get(name.toLowerCase(Locale.ROOT));
    }

    public void sqlPrepared(String name, String prepareSql) {
        sqlStatements.put(name.toLowerCase(Locale.ROOT), prepareSql);
    }

    /** DEALLOCATE name; null for ALL. */
    public void sqlDeallocated(String name) {
        if (name == null) {
            sqlStatements.clear();
        } else {
            sqlStatements.remove(name.toLowerCase(Locale.ROOT));
        }
    }

    /** The connection was reset (DISCARD ALL, the pool's reset query): nothing of any session is left. */
    public void reset() {
        settings = AppliedSettings.PRISTINE;
        statements.clear();
        unnamed = null;
        sqlStatements.clear();
    }

    /** Statements vanished in ways pgrelay does not follow (DEALLOCATE ALL, DISCARD ALL). */
    public void statementsForgotten() {
        statements.clear();
        unnamed = null;
        sqlStatements.clear();
    }
}
