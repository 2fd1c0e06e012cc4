package io.pgrelay.core.metrics;

import io.pgrelay.protocol.message.backend.ReadyForQuery.TransactionStatus;

/**
 * Send times of a session's units in flight, oldest first, so each ReadyForQuery can report its
 * unit's latency even when units are pipelined, and the start of the session's transaction, so
 * the ReadyForQuery that returns to idle can report the transaction's. One per session, used on
 * its event loop only; a ring of longs that grows only when more units are in flight than ever
 * before, so the steady state allocates nothing.
 */
public final class UnitTimer {
    private long[] starts = new long[8];
    private int head;
    private int size;
    /** Send time of the unit that opened the transaction now open; meaningful while {@link #inTransaction}. */
    private long transactionStart;
    private boolean inTransaction;

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

    /**
     * The oldest unit in flight completed (its ReadyForQuery arrived, reporting {@code status}):
     * records its latency and, when the session is back to idle, the latency of the transaction
     * it ended. A transaction runs from sending its first unit to the ReadyForQuery that is idle
     * again, so a statement outside BEGIN … COMMIT counts as a transaction of its own.
     */
    public void completed(ProxyMetrics metrics, TransactionStatus status) {
        if (size == 0) {
            if (status == TransactionStatus.IDLE) {
                inTransaction = false;
            }
            return;
        }
        long start = starts[head];
        head = (head + 1) & (starts.length - 1);
        size--;
        long now = System.nanoTime();
        metrics.unitLatency(now - start);
        if (!inTransaction) {
            transactionStart = start;
        }
        inTransaction = status != TransactionStatus.IDLE;
        if (!inTransaction) {
            metrics.transactionLatency(now - transactionStart);
        }
    }

    /** The oldest unit in flight will not complete normally (moved to another server, or failed): forget it. */
    public void dropOldest() {
        if (size > 0) {
            head = (head + 1) & (starts.length - 1);
            size--;
        }
    }

    /** Every unit in flight is gone, and the transaction with them (the backend connection was lost). */
    public void clear() {
        head = 0;
        size = 0;
        inTransaction = false;
    }

    public int inFlight() {
        return size;
    }
}
