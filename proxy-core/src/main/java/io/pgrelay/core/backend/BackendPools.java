package io.pgrelay.core.backend;

import io.pgrelay.core.cluster.NodeStatus;

/** Where sessions get their backends: the pool of a node, user and database ({@link PoolManager}). */
@FunctionalInterface
public interface BackendPools {
    /** The pool for this node, user and database; the password is used for new connections. */
    BackendPool pool(NodeStatus node, String user, String database, String password);
}
