package io.pgrelay.core.ops;

/** How many replicas must confirm a commit: none (async), {@code acks} of them (semi-sync), all (sync). */
public record ReplicationMode(String mode, int acks) {
    public static final ReplicationMode ASYNC = new ReplicationMode("async", 0);
}
