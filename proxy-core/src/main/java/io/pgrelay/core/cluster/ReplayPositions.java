package io.pgrelay.core.cluster;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Replay positions replicas confirmed to sessions ({@code pg_last_wal_replay_lsn()} asked by a
 * causal or global read), shared by every session of the proxy: a read whose position one
 * session saw replayed needs no check of its own. A confirmation counts on its timeline only,
 * and for {@link #FRESH_NANOS} (a replica rebuilt from an older backup on the same timeline
 * would otherwise look ahead of itself); the monitor's figure takes over after that.
 */
public final class ReplayPositions {
    static final long FRESH_NANOS = TimeUnit.SECONDS.toNanos(1);

    private record Confirmed(int timeline, long lsn, long atNanos) {
    }

    private final ConcurrentHashMap<Integer, Confirmed> confirmed = new ConcurrentHashMap<>();

    /** Node {@code index} said it replayed up to {@code lsn} on {@code timeline}, now. */
    public void confirmed(int index, int timeline, long lsn) {
        Confirmed now = new Confirmed(timeline, lsn, System.nanoTime());
        confirmed.merge(index, now, (old, next) -> old.timeline() == next.timeline()
                && Lsn.compare(old.lsn(), next.lsn()) > 0 && fresh(old, next.atNanos()) ? old : next);
    }

    /** How far node {@code index} is known to have replayed on {@code timeline}; {@link Lsn#INVALID} if unknown. */
    public long replayed(int index, int timeline) {
        Confirmed known = confirmed.get(index);
        return known != null && known.timeline() == timeline && fresh(known, System.nanoTime()) ? known.lsn()
                : Lsn.INVALID;
    }

    private static boolean fresh(Confirmed known, long nowNanos) {
        return nowNanos - known.atNanos() < FRESH_NANOS;
    }
}
