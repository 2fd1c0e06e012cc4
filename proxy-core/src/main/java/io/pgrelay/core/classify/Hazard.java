package io.pgrelay.core.classify;

/** Why a function or relation may not be used on a replica (or {@link #NONE}). */
public enum Hazard {
    /** Safe on a hot standby. */
    NONE,
    /** Writes (or needs a transaction id / WAL): the standby refuses it. */
    WRITE,
    /** Runs on a standby, but its effect belongs on the primary (signals, stats resets, WAL control). */
    SERVER_LOCAL,
    /** Its result depends on earlier statements of the session (currval, lastval, large-object descriptors, cursors). */
    SESSION_DEPENDENT,
    /** set_config(): session state, and literal-dependent (transaction_read_only = off is refused on a standby). */
    SET_CONFIG,
    /** Session-level advisory lock. */
    ADVISORY_LOCK,
    /** Releases session-level advisory locks. */
    ADVISORY_UNLOCK,
    /** Transaction-level advisory lock: server-local. */
    ADVISORY_XACT_LOCK,
    /** Runs SQL given as text (dynamic SQL): unknown statements. */
    DYNAMIC_SQL,
    /** A VOLATILE function that is neither allow-listed nor analysable. */
    VOLATILE,
    /** An unlogged table (or one with unlogged partitions/children): inaccessible during recovery. */
    UNLOGGED,
    /** A view whose definition is not safe on a replica. */
    UNSAFE_VIEW,
    /** Not known to the catalog in use. */
    UNKNOWN;

    /** True when the object forces the primary. */
    public boolean primary() {
        return this != NONE;
    }

    /** True when it writes data (kind WRITE rather than READ). */
    public boolean writes() {
        return this == WRITE;
    }
}
