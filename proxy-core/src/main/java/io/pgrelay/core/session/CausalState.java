package io.pgrelay.core.session;

import io.pgrelay.core.cluster.Lsn;
import io.pgrelay.core.cluster.NodeStatus;
import io.pgrelay.core.cluster.Topology;

/**
 * Read-your-writes by WAL position for one session: the position its reads must see (its own
 * last committed write, or a position set with {@code pgrelay.min_lsn}), with the timeline it
 * was taken on. A replica qualifies once it has replayed that position on the same timeline.
 *
 * <p>After a timeline change the old position means nothing on the new timeline (positions
 * past the fork were never replicated). The requirement then becomes the new primary's
 * position at the time the change is noticed: everything acknowledged before is either on the
 * new timeline below that point or lost to every node alike.
 */
final class CausalState {
    private boolean causal;
    private long requiredLsn = Lsn.INVALID;
    private int requiredTimeline;
    private long lastLsn = Lsn.INVALID;
    /** A write committed and its position is being fetched: until then only the primary qualifies. */
    private boolean positionPending;
    /** The position after a write could not be learned: only the primary qualifies until the next write. */
    private boolean positionUnknown;

    CausalState(boolean causal) {
        this.causal = causal;
    }

    boolean causal() {
        return causal;
    }

    void causal(boolean on) {
        this.causal = on;
    }

    /** A write committed on the primary; its position follows with {@link #wrote} or {@link #writeUnknown}. */
    void writeCommitted() {
        positionPending = true;
    }

    boolean positionPending() {
        return positionPending;
    }

    void wrote(long lsn, int timeline) {
        positionPending = false;
        positionUnknown = false;
        lastLsn = lsn;
        require(lsn, timeline);
    }

    void writeUnknown() {
        positionPending = false;
        positionUnknown = true;
    }

    /** {@code SET pgrelay.min_lsn}: reads wait for this position (on the current timeline). */
    void require(long lsn, int timeline) {
        if (timeline > requiredTimeline || (timeline == requiredTimeline && Lsn.compare(lsn, requiredLsn) > 0)) {
            requiredLsn = lsn;
            requiredTimeline = timeline;
        }
    }

    long lastLsn() {
        return lastLsn;
    }

    /** Whether reads of this session are constrained at all (a min_lsn applies in either mode). */
    boolean constrained() {
        return positionPending || positionUnknown || requiredLsn != Lsn.INVALID;
    }

    /** Only the primary can serve this session's reads now. */
    boolean primaryOnly() {
        return positionPending || positionUnknown;
    }

    long requiredLsn() {
        return requiredLsn;
    }

    /** Moves a requirement from an older timeline onto the primary's current one. */
    void followTimeline(Topology topology) {
        NodeStatus primary = topology.primary();
        if (requiredLsn != Lsn.INVALID && primary != null && primary.timeline() > requiredTimeline
                && primary.currentLsn() != Lsn.INVALID) {
            requiredLsn = primary.currentLsn();
            requiredTimeline = primary.timeline();
        }
    }

    /** Whether a replica that replayed up to {@code replayLsn} on {@code timeline} has this session's writes. */
    boolean satisfiedBy(long replayLsn, int timeline) {
        if (requiredLsn == Lsn.INVALID) {
            return true;
        }
        return timeline == requiredTimeline && Lsn.compare(replayLsn, requiredLsn) >= 0;
    }
}
