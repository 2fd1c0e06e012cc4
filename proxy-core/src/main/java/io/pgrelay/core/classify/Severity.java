package io.pgrelay.core.classify;

/**
 * How strongly a hazard found in a statement forces the primary; the strongest found decides the
 * statement's reason. In increasing order.
 */
enum Severity {
    NONE,
    /** An identifier equal to an unsafe relation's name outside a FROM position: Calcite may clear it. */
    SOFT,
    SET_CONFIG,
    UNKNOWN_RELATION,
    UNKNOWN,
    VOLATILE,
    SESSION_DEPENDENT,
    UNSAFE_RELATION,
    /** Safe on a standby, but the answer is per server and the client means the primary's. */
    SERVER_LOCAL_READ,
    SERVER_LOCAL,
    DYNAMIC_SQL,
    LOCKING,
    WRITE;

    boolean atLeast(Severity other) {
        return compareTo(other) >= 0;
    }
}
