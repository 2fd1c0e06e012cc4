package io.pgrelay.core.session;

import io.pgrelay.core.classify.SessionEffect;
import io.pgrelay.protocol.SqlLiterals;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The run-time settings a client has established: those of its startup packet and every
 * session-level SET / RESET since. Each backend connection the session uses is brought to
 * the same state before the client's next statement runs there, by replaying
 * {@link #replaySql()}; {@link #version()} tells whether a backend is already current.
 *
 * <p>Changes made inside a transaction only count once it commits, as in PostgreSQL.
 */
final class SessionSettings {
    private final Map<String, String> startup;
    private final Map<String, String> statements = new LinkedHashMap<>();
    private Map<String, String> committed = new LinkedHashMap<>();
    private final List<SessionEffect> inTransaction = new ArrayList<>();
    private boolean untracked;
    private long version;
    private String stateKey;
    private long stateKeyVersion = -1;

    SessionSettings(Map<String, String> startup) {
        this.startup = new LinkedHashMap<>(startup);
    }

    long version() {
        return version;
    }

    /** Whether some session state was changed in a way pgrelay cannot replay on another backend. */
    boolean untracked() {
        return untracked;
    }

    void markUntracked() {
        untracked = true;
    }

    /** Applies a setting change; inside a transaction it is provisional until commit. */
    void apply(SessionEffect command, boolean inTransaction) {
        if (inTransaction) {
            this.inTransaction.add(command);
        }
        applyNow(command);
    }

    private void applyNow(SessionEffect command) {
        if (command instanceof SessionEffect.SetSetting set) {
            statements.put(set.name().toLowerCase(Locale.ROOT), set.replaySql());
        } else if (command instanceof SessionEffect.ResetSetting reset) {
            statements.remove(reset.name().toLowerCase(Locale.ROOT));
        } else if (command instanceof SessionEffect.ResetAll) {
            statements.clear();
        } else if (command instanceof SessionEffect.UntrackedSetting) {
            untracked = true;
        } else {
            return;
        }
        version++;
    }

    /** The transaction ended; {@code committed} false undoes the changes made inside it. */
    void endTransaction(boolean wasCommitted) {
        if (!wasCommitted && !inTransaction.isEmpty()) {
            statements.clear();
            statements.putAll(committed);
            version++;
        }
        inTransaction.clear();
        committed = new LinkedHashMap<>(statements);
    }

    /** A transaction started: remember what to return to if it rolls back. */
    void beginTransaction() {
        committed = new LinkedHashMap<>(statements);
        inTransaction.clear();
    }

    /** Undoes whatever another session (or the client itself) left on a backend connection. */
    static final String RESET_SQL = "RESET ALL; RESET SESSION AUTHORIZATION; RESET ROLE";

    /**
     * The statements that establish this session's settings on a backend in its pristine
     * state; "" when the session has none. Also the key telling whether a backend already
     * has exactly these settings, whichever session applied them.
     */
    String stateKey() {
        if (stateKey == null || stateKeyVersion != version) {
            StringBuilder sql = new StringBuilder();
            String startupSettings = SqlLiterals.setConfig(startup.entrySet());
            if (startupSettings != null) {
                sql.append(startupSettings);
            }
            for (String statement : statements.values()) {
                if (sql.length() > 0) {
                    sql.append("; ");
                }
                sql.append(statement);
            }
            stateKey = sql.toString();
            stateKeyVersion = version;
        }
        return stateKey;
    }

    boolean isStartupSetting(String name) {
        for (String key : startup.keySet()) {
            if (key.equalsIgnoreCase(name)) {
                return true;
            }
        }
        return false;
    }

    boolean hasStatements() {
        return !statements.isEmpty();
    }
}
