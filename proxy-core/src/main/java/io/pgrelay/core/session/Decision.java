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
        /** Global consistency: no replica replayed the primary's position in time, or it is unknown. */
        GLOBAL,
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
        POSITION_PENDING,
        /** A global read: the primary's position at the read's start is to be learned. */
        GLOBAL_POSITION
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

    /**
     * The decisions for every node, made once: routing happens for every request and decides
     * nothing but values, so it allocates nothing.
     */
    final class Cache {
        private static final Decision.Local[] LOCAL = new Decision.Local[LocalAnswer.values().length];
        private static final Decision.Wait[] WAIT = new Decision.Wait[WaitCause.values().length];

        static {
            for (LocalAnswer answer : LocalAnswer.values()) {
                LOCAL[answer.ordinal()] = new Decision.Local(answer);
            }
            for (WaitCause cause : WaitCause.values()) {
                WAIT[cause.ordinal()] = new Decision.Wait(cause);
            }
        }

        private Continue[] continues = new Continue[0];
        private Primary[][] primaries = new Primary[0][];
        private Replica[][] replicas = new Replica[0][];

        private Cache() {
        }

        static Cache create() {
            return new Cache();
        }

        static Decision.Local local(LocalAnswer answer) {
            return LOCAL[answer.ordinal()];
        }

        static Decision.Wait waitFor(WaitCause cause) {
            return WAIT[cause.ordinal()];
        }

        private void ensure(int node) {
            if (node >= continues.length) {
                int size = Math.max(node + 1, continues.length * 2);
                Continue[] c = java.util.Arrays.copyOf(continues, size);
                Primary[][] p = java.util.Arrays.copyOf(primaries, size);
                Replica[][] r = java.util.Arrays.copyOf(replicas, size);
                for (int i = continues.length; i < size; i++) {
                    c[i] = new Continue(i);
                    p[i] = new Primary[PrimaryCause.values().length];
                    for (PrimaryCause cause : PrimaryCause.values()) {
                        p[i][cause.ordinal()] = new Primary(i, cause);
                    }
                    r[i] = new Replica[] {new Replica(i, false), new Replica(i, true)};
                }
                continues = c;
                primaries = p;
                replicas = r;
            }
        }

        Continue next(int node) {
            ensure(node);
            return continues[node];
        }

        Primary primary(int node, PrimaryCause cause) {
            ensure(node);
            return primaries[node][cause.ordinal()];
        }

        Replica replica(int node, boolean checkReplay) {
            ensure(node);
            return replicas[node][checkReplay ? 1 : 0];
        }
    }
}
