package io.pgrelay.core.ops;

import io.pgrelay.core.ops.OperationException.Kind;

import java.util.concurrent.locks.ReentrantLock;

/** One cluster operation at a time: a second one is refused at once ({@link Kind#CONFLICT}), never queued. */
final class OperationLock {
    private final ReentrantLock busy = new ReentrantLock();

    /** Takes the lock for {@code operation} or refuses it; the caller releases in a finally block. */
    void acquire(String operation) {
        if (!busy.tryLock()) {
            throw new OperationException(Kind.CONFLICT, "another cluster operation is running; retry " + operation
                    + " when it has finished");
        }
    }

    /** Whether an operation runs now (automatic failover then waits for the next change). */
    boolean running() {
        return busy.isLocked();
    }

    void release() {
        busy.unlock();
    }
}
