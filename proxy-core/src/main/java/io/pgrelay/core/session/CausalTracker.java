package io.pgrelay.core.session;

import io.pgrelay.core.backend.BackendConnection;
import io.pgrelay.core.cluster.Lsn;
import io.pgrelay.core.cluster.NodeStatus;
import io.pgrelay.core.cluster.ReplayPositions;

import java.util.function.Consumer;

/**
 * Read-your-writes for one session: learns the WAL position of each committed write (asked on
 * the backend that committed it, after the client already has its answer) and tells which
 * replicas have replayed it, by the monitor's latest figure or by a position a replica confirmed
 * when asked by this or another session ({@link ReplayPositions}).
 */
final class CausalTracker {
    private final CausalState state;
    private final ReplayPositions confirmed;
    /** A request that may have written went to the primary since the session was last idle. */
    private boolean wroteSinceIdle;
    private String answer;

    CausalTracker(CausalState state, ReplayPositions confirmed) {
        this.state = state;
        this.confirmed = confirmed;
    }

    CausalState state() {
        return state;
    }

    /** Whether this replica has replayed the session's writes, as far as anyone knows. */
    boolean satisfied(NodeStatus node) {
        if (state.satisfiedBy(node.replayLsn(), node.timeline())) {
            return true;
        }
        long seen = confirmed.replayed(node.index(), node.timeline());
        return seen != Lsn.INVALID && state.satisfiedBy(seen, node.timeline());
    }

    /** A request that may write went to the primary. */
    void mayHaveWritten() {
        if (state.causal()) {
            wroteSinceIdle = true;
        }
    }

    /** Whether the session wrote since it was last idle on the primary: then its position must be learned. */
    boolean positionToLearn() {
        return wroteSinceIdle;
    }

    /** Asks the primary backend that committed the session's writes for its WAL insert position. */
    void learnPosition(BackendConnection backend, int timeline, Runnable then) {
        wroteSinceIdle = false;
        state.writeCommitted();
        answer = null;
        // Schema-qualified: the session's search_path is the client's, and may list a schema before pg_catalog.
        backend.writeInternalQuery("SELECT pg_catalog.pg_current_wal_insert_lsn()", row -> answer = row.get(0),
                (b, error) -> {
            if (error == null && answer != null) {
                state.wrote(Lsn.parse(answer), timeline);
            } else {
                state.writeUnknown();
            }
            then.run();
        });
        backend.flush();
    }

    /** Asks a replica how far it replayed; {@code then} learns whether that covers the session's writes. */
    void checkReplica(BackendConnection backend, NodeStatus node, Consumer<Boolean> then) {
        answer = null;
        backend.writeInternalQuery("SELECT pg_catalog.pg_last_wal_replay_lsn()", row -> answer = row.get(0),
                (b, error) -> {
            boolean reached = false;
            if (error == null && answer != null) {
                long replay = Lsn.parse(answer);
                confirmed.confirmed(node.index(), node.timeline(), replay);
                reached = state.satisfiedBy(replay, node.timeline());
            }
            then.accept(reached);
        });
        backend.flush();
    }

    /** The server of the session's last write was lost: where it got to is unknown. */
    void writeLost() {
        wroteSinceIdle = false;
        if (state.positionPending()) {
            state.writeUnknown();
        }
    }
}
