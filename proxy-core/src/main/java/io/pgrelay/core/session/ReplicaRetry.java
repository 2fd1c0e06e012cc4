package io.pgrelay.core.session;

import io.netty.buffer.ByteBuf;

/**
 * The safety net for reads sent to a replica: the request in flight there is kept (its frames
 * retained) until its first result, so that it can run again on the primary when the replica
 * refuses it with a standby-only error or dies before answering. Allocation-free once warm.
 */
final class ReplicaRetry {
    private final Request kept = new Request();

    boolean holding() {
        return !kept.isEmpty();
    }

    /** Keeps a copy of the request about to go to a replica. */
    void keep(Request sent) {
        release();
        kept.copyOf(sent, true);
    }

    /** Moves the kept request into {@code target} (empty) for a run on the primary. */
    void moveTo(Request target) {
        target.copyOf(kept, false);
        kept.clear();
    }

    /** The request got its first result, or will not be retried: nothing is kept. */
    void release() {
        if (!kept.isEmpty()) {
            kept.release();
        }
    }

    /** The kept frames, to remember what the primary must serve from now on. */
    Iterable<ByteBuf> frames() {
        return kept.frames;
    }
}
