package io.pgrelay.core.session;

import io.netty.buffer.ByteBuf;

import java.util.List;

/**
 * The safety net for reads sent to a replica: the request in flight there is kept (its frames
 * retained) until its first result, so that it can run again on the primary when the replica
 * refuses it with a standby-only error or dies before answering. Allocation-free once warm.
 */
final class ReplicaRetry {
    /** Made at the first read sent to a replica: a session that never reads there holds none. */
    private Request kept;

    boolean holding() {
        return kept != null && !kept.isEmpty();
    }

    /** Keeps a copy of the request about to go to a replica. */
    void keep(Request sent) {
        release();
        if (kept == null) {
            kept = new Request();
        }
        kept.copyOf(sent, true);
    }

    /** Moves the kept request into {@code target} (empty) for a run on the primary. */
    void moveTo(Request target) {
        if (kept == null) {
            return;
        }
        target.copyOf(kept, false);
        kept.clear();
    }

    /** The request got its first result, or will not be retried: nothing is kept. */
    void release() {
        if (holding()) {
            kept.release();
        }
    }

    /** The kept frames, to remember what the primary must serve from now on. */
    Iterable<ByteBuf> frames() {
        return kept == null ? List.of() : kept.frames;
    }
}
