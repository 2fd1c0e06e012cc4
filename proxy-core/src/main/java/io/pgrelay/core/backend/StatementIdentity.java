package io.pgrelay.core.backend;

import io.pgrelay.protocol.message.frontend.Parse;

import java.util.Arrays;
import java.util.Objects;

/**
 * What a prepared statement is, independent of which session prepared it: its name, text,
 * parameter types and the session settings it was parsed under (search_path and the like
 * decide what the names in it mean). Two sessions whose statements have equal identities
 * can share the statement on a pooled backend connection.
 */
public final class StatementIdentity {
    /** An unnamed statement no session keeps (parsed and bound at once): equal to no other identity. */
    public static final StatementIdentity TRANSIENT = new StatementIdentity("", "", new int[0], "\0transient");

    private final String name;
    private final String sql;
    private final int[] parameterTypes;
    private final String settingsKey;
    private final int hash;

    public StatementIdentity(String name, String sql, int[] parameterTypes, String settingsKey) {
        this.name = name;
        this.sql = sql;
        this.parameterTypes = parameterTypes;
        this.settingsKey = settingsKey;
        this.hash = Objects.hash(name, sql, Arrays.hashCode(parameterTypes), settingsKey);
    }

    public String name() {
        return name;
    }

    public String sql() {
        return sql;
    }

    public int[] parameterTypes() {
        return parameterTypes;
    }

    /** The Parse message that (re)creates this statement on another backend. */
    public Parse toParse() {
        return new Parse(name, sql, parameterTypes);
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        return o instanceof StatementIdentity other && hash == other.hash && name.equals(other.name)
                && sql.equals(other.sql) && Arrays.equals(parameterTypes, other.parameterTypes)
                && settingsKey.equals(other.settingsKey);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public String toString() {
        return "statement " + (name.isEmpty() ? "(unnamed)" : name);
    }
}
