package io.pgrelay.core.route;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Holds new work for the primary at transaction boundaries while the primary moves.
 * A session enters before it starts work on the primary from an idle state and exits when
 * it is idle there again (ReadyForQuery 'I', nothing in flight). While the gate is closed,
 * {@link #tryEnter} fails and the session parks with {@link #await}; {@link #drained}
 * completes once no session is inside. Lock-free; shared by all event loops.
 */
public final class PrimaryGate {
    private final AtomicInteger inside = new AtomicInteger();
    private final ConcurrentLinkedQueue<Runnable> parked = new ConcurrentLinkedQueue<>();
    private volatile boolean closed;
    private volatile CompletableFuture<Void> drained = CompletableFuture.completedFuture(null);

    /** Enters unless closed. Increment first, then check: a concurrent {@link #close} sees us or we see it. */
    public boolean tryEnter() {
        inside.incrementAndGet();
        if (closed) {
            exit();
            return false;
        }
        return true;
    }

    public void exit() {
        if (inside.decrementAndGet() == 0 && closed) {
            drained.complete(null);
        }
    }

    /** Runs {@code resume} (on the caller of {@link #open} or {@link #wake}) when the gate opens. */
    public void await(Runnable resume) {
        parked.add(resume);
        if (!closed) {
            wake();
        }
    }

    /** Closes the gate: new primary work waits. Returns the future of {@link #drained}. */
    public synchronized CompletableFuture<Void> close() {
        if (!closed) {
            drained = new CompletableFuture<>();
            closed = true;
            if (inside.get() == 0) {
                drained.complete(null);
            }
        }
        return drained;
    }

    /** Completes when the gate is closed and no session has work on the primary. */
    public CompletableFuture<Void> drained() {
        return drained;
    }

    public synchronized void open() {
        closed = false;
        wake();
    }

    public boolean isClosed() {
        return closed;
    }

    /** Sessions currently with work on the primary. */
    public int inside() {
        return inside.get();
    }

    /** Resumes every parked session; they re-check the gate and the topology themselves. */
    public void wake() {
        Runnable resume;
        while ((resume = parked.poll()) != null) {
            resume.run();
        }
    }
}
