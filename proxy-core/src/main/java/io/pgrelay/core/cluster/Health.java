package io.pgrelay.core.cluster;

/** Whether a node may take new work. */
public enum Health {
    /** Answering and usable. */
    UP,
    /** Not answering, or answering with errors, for the configured number of probes. */
    DOWN,
    /** A replica too far behind to take reads. */
    LAGGING,
    /** Excluded by an operator or by failover until unfenced; never routed to. */
    FENCED,
    /** No new work; existing sessions finish. */
    DRAINED;

    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
