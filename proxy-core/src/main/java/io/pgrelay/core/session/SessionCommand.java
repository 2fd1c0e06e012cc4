package io.pgrelay.core.session;

/**
 * A statement with an effect on session state that pgrelay must track to keep the session
 * consistent across backend connections, as parsed from the client's SQL.
 */
public sealed interface SessionCommand {
    /** {@code SET [SESSION] name TO value}; {@code replaySql} re-applies it verbatim. */
    record Set(String name, String replaySql) implements SessionCommand {
    }

    /** {@code RESET name}. */
    record Reset(String name) implements SessionCommand {
    }

    /** {@code RESET ALL} (also what {@code DISCARD ALL} does to settings). */
    record ResetAll() implements SessionCommand {
    }

    /** A session-level change pgrelay cannot replay (e.g. set_config with computed arguments). */
    record Untracked(String what) implements SessionCommand {
    }

    /** BEGIN / START TRANSACTION; {@code deferrable} when the text is fully understood. */
    record Begin(String sql, boolean readOnly, boolean readWrite, boolean serializable, boolean canDefer)
            implements SessionCommand {
    }

    /** COMMIT / END ({@code rollback == false}) or ROLLBACK / ABORT. */
    record EndTransaction(boolean rollback, String tag) implements SessionCommand {
    }

    /** {@code SET TRANSACTION ... READ ONLY} etc. */
    record SetTransaction(boolean readOnly) implements SessionCommand {
    }

    /** SQL-level {@code PREPARE name AS statement}. */
    record Prepare(String name, String sql, boolean primaryOnly) implements SessionCommand {
    }

    record Execute(String name) implements SessionCommand {
    }

    /** {@code DEALLOCATE name}; name null for ALL. */
    record Deallocate(String name) implements SessionCommand {
    }

    record DeclareCursor(String name, boolean withHold) implements SessionCommand {
    }

    /** {@code CLOSE name}; name null for ALL. */
    record CloseCursor(String name) implements SessionCommand {
    }

    /** {@code LISTEN channel}. */
    record Listen(String channel) implements SessionCommand {
    }

    /** {@code UNLISTEN channel}; channel null for *. */
    record Unlisten(String channel) implements SessionCommand {
    }

    /** {@code DISCARD ALL | TEMP | PLANS | SEQUENCES}. */
    record Discard(String what) implements SessionCommand {
    }

    record TempObject() implements SessionCommand {
    }

    record AdvisoryLock() implements SessionCommand {
    }

    /** {@code pg_advisory_unlock_all()} ({@code all}) or a single unlock. */
    record AdvisoryUnlock(boolean all) implements SessionCommand {
    }

    /** {@code SET pgrelay.x = v}, {@code RESET pgrelay.x} (value null) or {@code SHOW pgrelay.x}. */
    record ProxySetting(String name, String value, boolean show) implements SessionCommand {
    }
}
