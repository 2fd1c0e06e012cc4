package io.pgrelay.core.backend;

/**
 * How the client's request that ended with ReadyForQuery went on this connection: whether it
 * raised an error and how many commands completed, counted while its replies pass and kept
 * once it ends (the session asks after the ReadyForQuery).
 */
final class UnitOutcome {
    private boolean error;
    private int completed;
    private boolean lastFailed;
    private int lastCompleted;

    void commandCompleted() {
        completed++;
    }

    void error() {
        error = true;
    }

    /** The request ended with ReadyForQuery: its figures become the last request's. */
    void ended() {
        lastFailed = error;
        lastCompleted = completed;
        error = false;
        completed = 0;
    }

    /** The request's replies were discarded to run it elsewhere: it counts for nothing here. */
    void discarded() {
        completed = 0;
    }

    boolean lastFailed() {
        return lastFailed;
    }

    int lastCompleted() {
        return lastCompleted;
    }
}
