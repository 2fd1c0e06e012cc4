package io.pgrelay.core.classify;

/** What a token scan looks for. */
enum ScanMode {
    /** A statement that runs. */
    QUERY,
    /** A PL/pgSQL or SQL function body, or a DO block. */
    BODY,
    /** Plain EXPLAIN: only what planning touches (relations, user functions that might be pre-evaluated). */
    PLAN,
    /** LOCK: only whether the relation exists matters (locking touches no storage). */
    LOCK_ONLY
}
