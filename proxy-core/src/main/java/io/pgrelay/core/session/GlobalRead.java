package io.pgrelay.core.session;

import io.netty.channel.EventLoop;
import io.pgrelay.core.cluster.Lsn;
import io.pgrelay.core.cluster.PrimaryPosition;

import java.util.concurrent.TimeUnit;

/**
 * Global consistency for one session's reads: at a read's start the primary's position is
 * learned ({@link PrimaryPosition}, shared by every read that starts meanwhile) and becomes the
 * read's requirement in {@link CausalState}; then the read waits up to {@code routing.global-wait}
 * for a replica that replayed it, polling the chosen replica, and goes to the primary after
 * that. Confined to the session's event loop.
 */
final class GlobalRead {
    /** Where the current read stands, as the {@link Router} reads it. */
    enum Stage {
        /** Not a global session. */
        OFF,
        /** The primary's position must be learned before the read can be routed. */
        NEEDS_POSITION,
        /** The position is being learned. */
        POSITION_PENDING,
        /** The position is known; a replica that has replayed it may serve the read. */
        WAITING,
        /**
         * The wait is over and a replica was asked in vain: only a replica already known to have
         * replayed the position may serve the read, else the primary.
         */
        EXPIRED,
        /** The position could not be learned: the primary serves the read. */
        UNKNOWN
    }

    /** First pause between a replica's replay checks, doubled up to {@link #MAX_POLL_NANOS}. */
    private static final long FIRST_POLL_NANOS = TimeUnit.MICROSECONDS.toNanos(500);
    private static final long MAX_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

    private final CausalState causal;
    private final PrimaryPosition positions;
    private final long waitNanos;
    private Stage stage = Stage.NEEDS_POSITION;
    private long deadlineNanos;
    private long pollNanos;
    /** A replica was asked and had not replayed the position: the wait can end (one check is always made). */
    private boolean checked;
    /** Bumped when a read is done: a late answer for an earlier read changes nothing. */
    private int generation;

    GlobalRead(CausalState causal, PrimaryPosition positions, long waitNanos) {
        this.causal = causal;
        this.positions = positions;
        this.waitNanos = waitNanos;
    }

    Stage stage() {
        if (causal.mode() != Consistency.GLOBAL) {
            return Stage.OFF;
        }
        if (stage == Stage.WAITING && checked && System.nanoTime() - deadlineNanos >= 0) {
            stage = Stage.EXPIRED;
        }
        return stage;
    }

    /** Asks for the primary's position; {@code then} runs on {@code loop} once it is known or unknown. */
    void learnPosition(EventLoop loop, Runnable then) {
        stage = Stage.POSITION_PENDING;
        int asked = generation;
        positions.request((lsn, timeline) -> loop.execute(() -> {
            if (asked != generation || stage != Stage.POSITION_PENDING) {
                return;
            }
            if (lsn == Lsn.INVALID) {
                stage = Stage.UNKNOWN;
            } else {
                causal.requireForRead(lsn, timeline);
                stage = Stage.WAITING;
                deadlineNanos = System.nanoTime() + waitNanos;
                pollNanos = FIRST_POLL_NANOS;
                checked = false;
            }
            then.run();
        }));
    }

    /** A replica was asked and had not replayed the position yet. */
    void checkFailed() {
        checked = true;
    }

    /** Whether a replica that has not replayed the position yet may be asked again after a pause. */
    boolean mayWait() {
        return stage() == Stage.WAITING;
    }

    /** Runs {@code then} on {@code loop} after the next pause between replay checks (never past the deadline). */
    void pause(EventLoop loop, Runnable then) {
        int asked = generation;
        long delay = Math.max(0, Math.min(pollNanos, deadlineNanos - System.nanoTime()));
        pollNanos = Math.min(MAX_POLL_NANOS, pollNanos * 2);
        loop.schedule(() -> {
            if (asked == generation) {
                then.run();
            }
        }, delay, TimeUnit.NANOSECONDS);
    }

    /** The read went to its server (or failed): the next read learns a position of its own. */
    void done() {
        if (stage != Stage.NEEDS_POSITION) {
            generation++;
            stage = Stage.NEEDS_POSITION;
            causal.readRouted();
        }
    }
}
