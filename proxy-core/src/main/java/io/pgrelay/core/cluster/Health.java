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
    DRAINED,
    /** Taken out of the cluster by an operator; its index stays reserved so indexes never shift. */
    REMOVED;

    /** Set by an operator or by failover, so a probe result never overrides it. */
    public boolean isSticky() {
        return this == FENCED || this == DRAINED || this == REMOVED;
    }

    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
