package io.pgrelay.core.classify;

/** Where a statement may run: on a hot-standby replica, or only on the primary. */
public enum Route {
    REPLICA, PRIMARY;

    /** The stricter of two routes. */
    public Route strictest(Route other) {
        return this == PRIMARY || other == PRIMARY ? PRIMARY : REPLICA;
    }

    /** The lower-case name used in JSON output ({@code primary} | {@code replica}). */
    public String jsonName() {
        return this == PRIMARY ? "primary" : "replica";
    }
}
