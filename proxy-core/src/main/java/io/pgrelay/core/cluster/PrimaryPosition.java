package io.pgrelay.core.cluster;

/**
 * The primary's current WAL position, asked for by global reads ({@code routing.consistency:
 * global}): the position at the moment the read began, which a replica must have replayed.
 */
@FunctionalInterface
public interface PrimaryPosition {
    /**
     * Asks for the primary's position as of now or later. {@code listener} is called once, on a
     * thread of the service's own (never the caller's event loop): with {@link Lsn#INVALID}
     * when the position could not be learned.
     */
    void request(Listener listener);

    @FunctionalInterface
    interface Listener {
        void position(long lsn, int timeline);
    }

    /** Never knows: every global read goes to the primary (tests without a cluster). */
    PrimaryPosition UNKNOWN = listener -> listener.position(Lsn.INVALID, 0);
}
