package io.pgrelay.core.cluster;

/** What a node is in the replication topology, as last observed. */
public enum Role {
    PRIMARY, REPLICA, UNKNOWN;

    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
