package io.pgrelay.core.session;

import io.pgrelay.core.classify.SessionEffect;
import io.pgrelay.protocol.SqlLiterals;

import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The run-time settings of a session as PostgreSQL keeps them: those of the startup packet and
 * every session-level SET / RESET / set_config() since, with transaction semantics. A change
 * inside a transaction block survives only if the block commits; inside a savepoint, only if the
 * savepoint is released (ROLLBACK TO undoes it). SET LOCAL never outlives its transaction and a
 * transaction never moves between servers, so LOCAL changes need no tracking. The statements of
 * one request outside a transaction block form an implicit block: when one fails, the ones
 * before it are undone too, unless a BEGIN turned the block into an explicit one.
 *
 * <p>{@link #stateKey()} is the replay that establishes the committed state on a backend in its
 * pristine state, and also the key telling whether a backend already has it. Changes are
 * replayed in the order the session made them (each setting at its last change), so that
 * privileges held when a setting was made still hold when it is replayed; a change of session
 * authorization resets the role, as on the server. A setting the server reports
 * (ParameterStatus) is replayed with the value it reported: some SETs merge with the value before
 * them ({@code SET datestyle = ymd} keeps the output style), so only the result replays faithfully.
 */
final class SessionSettings {
    /** Undoes whatever another session (or the client itself) left on a backend connection. */
    static final String RESET_SQL = "RESET SESSION AUTHORIZATION; RESET ROLE; RESET ALL";
    private static final String ROLE = "role";
    private static final String AUTHORIZATION = "session_authorization";

    private enum Block { NONE, IMPLICIT, EXPLICIT, FAILED }

    /** A point the settings may return to: the start of the transaction block or a savepoint. */
    private record Level(String savepoint, Map<String, String> settings) {
    }

    private final Map<String, String> startup;
    /** Setting name (lower case) to the statement that gives it its current value, in order of change. */
    private Map<String, String> current = Map.of();
    /**
     * {@code current} is also a level's snapshot: copied before it changes. Most transactions
     * change no setting, and a copy per transaction (or per autocommit statement) would be an
     * allocation each time.
     */
    private boolean currentShared = true; // the empty start: nothing of its own until a first SET
    /** Setting name (lower case) to the value the server last reported for this session. */
    private Map<String, String> reported = Collections.emptyMap(); // see LazyCollections
    private final Deque<Level> levels = new ArrayDeque<>(1);
    private Block block = Block.NONE;
    private long version;
    private String stateKey;
    private long stateKeyVersion = -1;

    /** {@code startup}: read-only, in the order the client sent it (see {@link StartupSettings}); not copied. */
    SessionSettings(Map<String, String> startup) {
        this.startup = startup;
    }

    long version() {
        return version;
    }
    boolean inTransactionBlock() {
        return block == Block.EXPLICIT || block == Block.FAILED;
    }

    /**
     * The server reported a setting's value for this session (ParameterStatus); true when that
     * changes the replay ({@link #stateKey()}).
     */
    boolean parameterReported(String setting, String value) {
        String name = setting.toLowerCase(Locale.ROOT);
        reported = LazyCollections.writable(reported);
        String before = reported.put(name, value);
        if (!value.equals(before) && current.containsKey(name) && !name.equals(AUTHORIZATION)) {
            changed();
            return true;
        }
        return false;
    }

    /** A statement completed: applies its effects on settings and transaction blocks, in order. */
    void statementCompleted(List<SessionEffect> effects) {
        if (block == Block.NONE) {
            startBlock(Block.IMPLICIT);
        }
        for (int i = 0; i < effects.size(); i++) { // indexed: no iterator per statement
            apply(effects.get(i));
        }
    }

    /** A statement of the request failed: an implicit block is undone, an explicit one fails. */
    void statementFailed() {
        if (block == Block.IMPLICIT) {
            rollback();
        } else if (block == Block.EXPLICIT) {
            block = Block.FAILED;
        }
    }

    /**
     * The request ended; the server's transaction status is the truth: outside a transaction
     * block an implicit one committed, inside one the block goes on (failed or not).
     */
    void requestEnded(boolean inTransaction, boolean failed) {
        if (!inTransaction) {
            if (block == Block.FAILED) {
                rollback();
            } else if (block != Block.NONE) {
                commit();
            }
        } else if (block == Block.NONE || block == Block.IMPLICIT) {
            if (block == Block.NONE) {
                startBlock(Block.EXPLICIT);
            }
            block = failed ? Block.FAILED : Block.EXPLICIT;
        } else if (failed) {
            block = Block.FAILED;
        }
    }

    private void apply(SessionEffect effect) {
        if (effect instanceof SessionEffect.SetSetting set && set.scope() == SessionEffect.Scope.SESSION) {
            String name = changing(set.name());
            writableCurrent().put(name, set.replaySql());
        } else if (effect instanceof SessionEffect.ResetSetting reset && reset.scope() == SessionEffect.Scope.SESSION) {
            changing(reset.name());
        } else if (effect instanceof SessionEffect.ResetAll) {
            // RESET ALL leaves the role and the session authorization alone
            writableCurrent().keySet().removeIf(name -> !name.equals(ROLE) && !name.equals(AUTHORIZATION));
            changed();
        } else if (effect instanceof SessionEffect.Discard discard && discard.scope() == SessionEffect.DiscardScope.ALL) {
            writableCurrent().clear();
            changed();
        } else if (effect instanceof SessionEffect.Begin) {
            if (block == Block.IMPLICIT) {
                block = Block.EXPLICIT; // the statements before BEGIN join its transaction
            } else if (block == Block.NONE) {
                startBlock(Block.EXPLICIT);
            }
        } else if (effect instanceof SessionEffect.Savepoint savepoint) {
            if (inTransactionBlock()) {
                levels.push(new Level(savepoint.name(), snapshot()));
            }
        } else if (effect instanceof SessionEffect.ReleaseSavepoint release) {
            Level level = find(release.name());
            if (level != null) {
                while (levels.peek() != level) {
                    levels.pop();
                }
                levels.pop();
            }
        } else if (effect instanceof SessionEffect.RollbackToSavepoint rollbackTo) {
            Level level = find(rollbackTo.name());
            if (level != null) {
                while (levels.peek() != level) {
                    levels.pop();
                }
                restore(level.settings());
                block = Block.EXPLICIT;
            }
        } else if (effect instanceof SessionEffect.EndTransaction end) {
            if (end.ending() == SessionEffect.Ending.ROLLBACK || block == Block.FAILED) {
                rollback();
            } else {
                commit();
            }
            if (end.chain()) {
                startBlock(Block.EXPLICIT);
            }
        }
    }

    /** Removes a setting about to change (its new value goes last); the session authorization resets the role. */
    private String changing(String setting) {
        String name = setting.toLowerCase(Locale.ROOT);
        if (name.equals(AUTHORIZATION)) {
            writableCurrent().remove(ROLE);
        }
        writableCurrent().remove(name);
        changed();
        return name;
    }

    private Level find(String savepoint) {
        for (Level level : levels) {
            if (level.savepoint() != null && level.savepoint().equals(savepoint)) {
                return level;
            }
        }
        return null;
    }

    private void startBlock(Block kind) {
        levels.clear();
        levels.push(new Level(null, snapshot()));
        block = kind;
    }

    private void commit() {
        levels.clear();
        block = Block.NONE;
    }

    private void rollback() {
        Level start = levels.peekLast();
        if (start != null) {
            restore(start.settings());
        }
        levels.clear();
        block = Block.NONE;
    }

    private void restore(Map<String, String> settings) {
        if (!settings.equals(current)) {
            current = settings; // the level's map: shared until the next change
            currentShared = true;
            changed();
        }
    }

    /** The settings as they are now, for a level to return to (shared with {@code current}). */
    private Map<String, String> snapshot() {
        currentShared = true;
        return current;
    }

    private Map<String, String> writableCurrent() {
        if (currentShared) {
            current = new LinkedHashMap<>(current);
            currentShared = false;
        }
        return current;
    }

    private void changed() {
        version++;
    }

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
            for (Map.Entry<String, String> setting : current.entrySet()) {
                if (sql.length() > 0) {
                    sql.append("; ");
                }
                String name = setting.getKey();
                String value = name.equals(AUTHORIZATION) ? null : reported.get(name);
                sql.append(value != null ? SqlLiterals.setConfig(Map.of(name, value).entrySet()) : setting.getValue());
            }
            stateKey = sql.toString();
            stateKeyVersion = version;
        }
        return stateKey;
    }

    /** Whether the client set this in its startup packet (a RESET on the server then goes to the server's default). */
    boolean isStartupSetting(String name) {
        for (String key : startup.keySet()) {
            if (key.equalsIgnoreCase(name)) {
                return true;
            }
        }
        return false;
    }
}
