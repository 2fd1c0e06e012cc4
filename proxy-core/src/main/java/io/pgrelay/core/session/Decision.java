package io.pgrelay.core.session;

/** Where a request goes, as the {@link Router} decides it. */
sealed interface Decision {
    /** Why pgrelay answers a request itself. */
    enum LocalAnswer {
        /** SET / RESET / SHOW of a pgrelay.* setting. */
        PROXY_SETTING,
        /** A BEGIN held back until the transaction's first statement says where it runs. */
        DEFERRED_BEGIN,
        /** The end of a transaction that never reached a server. */
        END_OF_DEFERRED,
        /** Transaction pooling: Parse-only requests are prepared on a backend at first use. */
        LOCAL_PREPARE,
        /** The transaction's server died: answered as an aborted transaction until it ends. */
        LOST_TRANSACTION,
        /** {@code SELECT pg_backend_pid()}: the process id pgrelay issued to this client. */
        BACKEND_PID,
        /** pg_cancel_backend / pg_terminate_backend of a process id pgrelay issued. */
        SIGNAL_BACKEND
    }

    /** Why a request goes to the primary. */
    enum PrimaryCause {
        /** A statement in it needs the primary (writes, or a reason the classifier gave). */
        STATEMENT,
        /** The session: its pins, its route override, a hint, a read-write transaction, reads not split. */
        SESSION,
        /** Read-your-writes: no replica is known to have the session's writes. */
        CAUSAL,
        /** The replica chosen before could not serve it. */
        RETRY,
        /** No replica can take reads. */
        FALLBACK
    }

    /** Why a request waits before it can be routed. */
    enum WaitCause {
        /** No primary is known (a failover is under way). */
        NO_PRIMARY,
        /** The write position of the session's last write is being learned. */
        POSITION_PENDING
    }

    record Local(LocalAnswer answer) implements Decision {
    }

    /** The request goes on where the session's open transaction or extended batch runs. */
    record Continue(int node) implements Decision {
    }

    record Primary(int node, PrimaryCause cause) implements Decision {
    }

    /** To a replica; {@code checkReplay}: ask it first whether it replayed the session's writes. */
    record Replica(int node, boolean checkReplay) implements Decision {
    }

    record Wait(WaitCause cause) implements Decision {
    }

    /** The request cannot be served (no replica with {@code routing.fallback: error}). */
    record Refuse(String sqlState, String message) implements Decision {
    }
}
