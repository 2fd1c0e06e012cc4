package io.pgrelay.core.classify;

/**
 * A change a statement makes to session state, or a use of it, that pgrelay must know to keep a
 * session whole across the servers it uses. The analyzer emits them in statement order; the
 * session applies each when PostgreSQL would (at once, at commit, at the end of a savepoint).
 * Names are as the server resolves them: unquoted identifiers lower-cased, quoted ones verbatim.
 */
public sealed interface SessionEffect {

    /** Where a setting change lasts. */
    enum Scope {
        /** SET [SESSION], set_config(..., false): until changed, if its transaction commits. */
        SESSION,
        /** SET LOCAL, set_config(..., true): until the end of the transaction. */
        LOCAL
    }

    /**
     * A setting gets a value: {@code SET [SESSION | LOCAL] name ...}, {@code SET ROLE},
     * {@code SET SESSION AUTHORIZATION}, {@code SET TIME ZONE}, {@code set_config()} with literal
     * arguments, and each characteristic of {@code SET SESSION CHARACTERISTICS}.
     *
     * @param name      lower-case, as the server names it ({@code role}, {@code session_authorization},
     *                  {@code timezone}, {@code client_encoding}, {@code search_path}, ...)
     * @param replaySql a statement that sets the same value on another server
     */
    record SetSetting(String name, Scope scope, String replaySql) implements SessionEffect {
    }

    /** {@code RESET name}, {@code SET name TO DEFAULT}, {@code SET ROLE NONE}, {@code RESET SESSION AUTHORIZATION}. */
    record ResetSetting(String name, Scope scope) implements SessionEffect {
    }

    /** {@code RESET ALL}. */
    record ResetAll() implements SessionEffect {
    }

    /** Session state changed in a way pgrelay cannot replay (set_config() with computed arguments). */
    record UntrackedSetting(String what) implements SessionEffect {
    }

    /** BEGIN / START TRANSACTION. */
    record Begin(TransactionModes modes) implements SessionEffect {
    }

    /** How a transaction block ends. */
    enum Ending {
        COMMIT("COMMIT"), ROLLBACK("ROLLBACK"), PREPARE("PREPARE TRANSACTION");

        private final String tag;

        Ending(String tag) {
            this.tag = tag;
        }

        /** The CommandComplete tag the server sends. */
        public String tag() {
            return tag;
        }
    }

    /** COMMIT / END, ROLLBACK / ABORT, PREPARE TRANSACTION; {@code chain}: AND CHAIN starts the next one. */
    record EndTransaction(Ending ending, boolean chain) implements SessionEffect {
    }

    /** SAVEPOINT name. */
    record Savepoint(String name) implements SessionEffect {
    }

    /** RELEASE [SAVEPOINT] name. */
    record ReleaseSavepoint(String name) implements SessionEffect {
    }

    /** ROLLBACK TO [SAVEPOINT] name. */
    record RollbackToSavepoint(String name) implements SessionEffect {
    }

    /** SET TRANSACTION: the modes of the current transaction only. */
    record SetTransaction(TransactionModes modes) implements SessionEffect {
    }

    /**
     * SQL {@code PREPARE name AS statement}.
     *
     * @param replaySql the PREPARE statement itself, to prepare the same on another server
     * @param statement what the prepared statement does when executed
     */
    record Prepare(String name, String replaySql, StatementFacts statement) implements SessionEffect {
    }

    /** {@code EXECUTE name}, also inside {@code CREATE TABLE AS} and {@code EXPLAIN}. */
    record Execute(String name) implements SessionEffect {
    }

    /** {@code DEALLOCATE name}; {@code name} null for ALL. */
    record Deallocate(String name) implements SessionEffect {
    }

    /** {@code DECLARE name CURSOR}. */
    record DeclareCursor(String name, boolean withHold) implements SessionEffect {
    }

    /** {@code CLOSE name}; {@code name} null for ALL. */
    record CloseCursor(String name) implements SessionEffect {
    }

    /** {@code FETCH} / {@code MOVE} from a cursor. */
    record Fetch(String cursor) implements SessionEffect {
    }

    /** {@code LISTEN channel}. */
    record Listen(String channel) implements SessionEffect {
    }

    /** {@code UNLISTEN channel}; {@code channel} null for *. */
    record Unlisten(String channel) implements SessionEffect {
    }

    /** What DISCARD forgets. */
    enum DiscardScope { ALL, PLANS, SEQUENCES, TEMP }

    /** {@code DISCARD ALL | PLANS | SEQUENCES | TEMP}. */
    record Discard(DiscardScope scope) implements SessionEffect {
    }

    /** Creates a temporary object (CREATE TEMP ..., SELECT INTO TEMP, pg_temp.x): it exists on one server only. */
    record CreateTemporaryObject() implements SessionEffect {
    }

    /** Takes a session-level advisory lock. */
    record TakeAdvisoryLock() implements SessionEffect {
    }

    /** Releases session-level advisory locks: one ({@code all} false) or every one (pg_advisory_unlock_all()). */
    record ReleaseAdvisoryLocks(boolean all) implements SessionEffect {
    }

    /** {@code LOAD 'library'}: the library stays loaded in that server process. */
    record LoadLibrary() implements SessionEffect {
    }

    /** What is done with one of pgrelay's own settings. */
    enum ProxySettingOp { SET, RESET, SHOW }

    /**
     * {@code SET / RESET / SHOW pgrelay.name}: answered by pgrelay, never sent to a server.
     *
     * @param value the value (unquoted when a single string literal); null for RESET and SHOW
     */
    record ProxySetting(ProxySettingOp op, String name, String value) implements SessionEffect {
    }

    /**
     * The statement is {@code SELECT pg_backend_pid()} alone: pgrelay answers with the process id
     * it issued to the client in BackendKeyData, the id its cancel requests use.
     */
    record BackendPid() implements SessionEffect {
    }

    /** What pg_cancel_backend / pg_terminate_backend do. */
    enum Signal { CANCEL, TERMINATE }

    /**
     * The statement is {@code SELECT pg_cancel_backend(n)} or {@code SELECT pg_terminate_backend(n)}
     * alone, with a literal process id: pgrelay carries it out when it issued that id.
     */
    record SignalBackend(Signal signal, String processId) implements SessionEffect {
    }
}
