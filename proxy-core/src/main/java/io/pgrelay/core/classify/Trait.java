package io.pgrelay.core.classify;

/**
 * A fact about a statement that matters downstream of the classifier but is not a change of
 * session state (those are {@link SessionEffect}s). Derived from the token stream alone, so it is
 * the same for every statement with the same {@link Fingerprint}.
 */
public enum Trait {
    /** A {@code /* pgrelay:primary *}{@code /} hint comment. */
    HINT_PRIMARY,
    /** More than one statement in the string. */
    MULTI,
    /** No statement at all (empty, only ';' or comments). */
    EMPTY,
    /** Longer than {@code routing.max-statement-length}: not analysed. */
    TOO_LONG,
    /** An unterminated string, comment or quoted identifier: not analysed. */
    INCOMPLETE,
    /** Changes the schema (CREATE / ALTER / DROP / IMPORT FOREIGN SCHEMA): reload the catalog after it. */
    DDL,
    /** Names a relation or function the catalog does not know (yet): worth reloading the catalog. */
    UNKNOWN_NAME,
    /** COPY ... FROM STDIN: the client streams data after the statement. */
    COPY_FROM_STDIN,
    /** COPY ... TO STDOUT. */
    COPY_TO_STDOUT,
    /** LOCK [TABLE]. */
    LOCK,
    /** NOTIFY or pg_notify(). */
    NOTIFY,
    /**
     * The route also depends on a session object this statement names (the prepared statement of
     * an EXECUTE, the cursor of a FETCH): the session resolves it. The statement's own route
     * covers everything else in it.
     */
    SESSION_OBJECT,
    /**
     * Reads state that belongs to one server (statistics, activity, locks, replication state,
     * WAL positions): a client means the primary's.
     */
    SERVER_LOCAL_READ,
    /**
     * Reads the session's own objects as the server sees them (pg_prepared_statements,
     * pg_cursors): it must run where all of them exist.
     */
    SESSION_OBJECTS_READ,
    /**
     * Runs SQL given as text (a function or DO block with EXECUTE): whatever it names must be
     * where it runs, the session's SQL-level prepared statements included.
     */
    DYNAMIC_SQL
}
