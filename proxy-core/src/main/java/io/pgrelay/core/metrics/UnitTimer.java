package io.pgrelay.core.metrics;

/**
 * Send times of a session's units in flight, oldest first, so each ReadyForQuery can report its
 * unit's latency even when units are pipelined. One per session, used on its event loop only;
 * a ring of longs that grows only when more units are in flight than ever before, so the
 * steady state allocates nothing.
 */
public final class UnitTimer {
    private long[] starts = new long[8];
    private int head;
    private int size;

    /** A unit was sent to a server. */
    public void sent() {
        if (size == starts.length) {
            long[] bigger = new long[starts.length * 2];
            for (int i = 0; i < size; i++) {
                bigger[i] = starts[(head + i) & (starts.length - 1)];
            }
            starts = bigger;
            head = 0;
        }
        starts[(head + size) & (starts.length - 1)] = System.nanoTime();
        size++;
    }

    /** The oldest unit in flight completed (its ReadyForQuery arrived): records its latency. */
    public void completed(ProxyMetrics metrics) {
        if (size == 0) {
            return;
        }
        long start = starts[head];
        head = (head + 1) & (starts.length - 1);
        size--;
        metrics.unitLatency(System.nanoTime() - start);
    }

    /** The oldest unit in flight will not complete normally (moved to another server, or failed): forget it. */
    public void dropOldest() {
        if (size > 0) {
            head = (head + 1) & (starts.length - 1);
            size--;
        }
    }

    /** Every unit in flight is gone (the backend connection was lost). */
    public void clear() {
        head = 0;
        size = 0;
    }

    public int inFlight() {
        return size;
    }
}
