package io.pgrelay.core.config;

/** How long a client keeps a backend connection. */
public enum PoolMode {
    /** From login to disconnect, like a direct connection. */
    SESSION,
    /** Only while a transaction is open; session state is replayed on each backend used. */
    TRANSACTION
}
