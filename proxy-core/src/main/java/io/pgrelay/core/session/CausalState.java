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
 *
 * <p>A global read adds a requirement for that read alone: the primary's position when it
 * began ({@link #requireForRead}), dropped once the read is routed ({@link #readRouted}).
 */
final class CausalState {
    private Consistency mode;
    private long requiredLsn = Lsn.INVALID;
    private int requiredTimeline;
    /** The current global read's requirement; {@link Lsn#INVALID} when there is none. */
    private long readLsn = Lsn.INVALID;
    private int readTimeline;
    private long lastLsn = Lsn.INVALID;
    /** A write committed and its position is being fetched: until then only the primary qualifies. */
    private boolean positionPending;
    /** The position after a write could not be learned: only the primary qualifies until the next write. */
    private boolean positionUnknown;

    CausalState(Consistency mode) {
        this.mode = mode;
    }

    Consistency mode() {
        return mode;
    }

    void mode(Consistency mode) {
        this.mode = mode;
    }

    /** Whether the session learns its writes' positions (causal and global). */
    boolean causal() {
        return mode.tracksWrites();
    }

    /** A global read must see {@code lsn} on {@code timeline}, the primary's position at its start. */
    void requireForRead(long lsn, int timeline) {
        readLsn = lsn;
        readTimeline = timeline;
    }

    /** The global read went to its server: its requirement no longer applies. */
    void readRouted() {
        readLsn = Lsn.INVALID;
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
        return positionPending || positionUnknown || requiredLsn != Lsn.INVALID || readLsn != Lsn.INVALID;
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
        return reached(replayLsn, timeline, requiredLsn, requiredTimeline)
                && reached(replayLsn, timeline, readLsn, readTimeline);
    }

    private static boolean reached(long replayLsn, int timeline, long lsn, int lsnTimeline) {
        return lsn == Lsn.INVALID || (timeline == lsnTimeline && Lsn.compare(replayLsn, lsn) >= 0);
    }
}
