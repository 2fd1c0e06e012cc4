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
        for (int i = 0; i < sent.frames.size(); i++) {
            kept.add(sent.frames.get(i).retain(), sent.names.get(i));
        }
        kept.terminator = sent.terminator;
        kept.texts.addAll(sent.texts);
        kept.usedStatements.addAll(sent.usedStatements);
        kept.executed.addAll(sent.executed);
        kept.traits = sent.traits;
        kept.kind = sent.kind;
    }

    /** Moves the kept request into {@code target} (empty) for a run on the primary. */
    void moveTo(Request target) {
        for (int i = 0; i < kept.frames.size(); i++) {
            target.add(kept.frames.get(i), kept.names.get(i));
        }
        target.terminator = kept.terminator;
        target.texts.addAll(kept.texts);
        target.usedStatements.addAll(kept.usedStatements);
        target.executed.addAll(kept.executed);
        target.traits = kept.traits;
        target.kind = kept.kind;
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
