package io.pgrelay.core.session;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.pgrelay.core.backend.BackendConnection;
import io.pgrelay.core.backend.BackendPool;
import io.pgrelay.core.backend.BackendPools;
import io.pgrelay.core.cluster.NodeStatus;

import io.pgrelay.core.cluster.Role;
import io.pgrelay.core.cluster.Topology;
import io.pgrelay.protocol.PgProtocolException;
import io.pgrelay.protocol.SqlState;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * The backend connections a session holds, at most one per node, and the pools they come from.
 * Knows which node a backend is being acquired for, so the pool is never asked twice.
 * Confined to the session's event loop.
 */
final class HeldBackends {
    private final BackendPools poolManager;
    private final String user;
    private final String database;
    private final String password;
    private BackendConnection[] held;
    private BackendPool[] pools;
    private int acquiring = -1;

    HeldBackends(BackendPools poolManager, String user, String database, String password, int nodes) {
        this.poolManager = poolManager;
        this.user = user;
        this.database = database;
        this.password = password;
        this.held = new BackendConnection[nodes];
        this.pools = new BackendPool[nodes];
    }

    /** Nodes added at runtime get slots. */
    void ensureSlots(int nodes) {
        if (held.length < nodes) {
            held = Arrays.copyOf(held, nodes);
            pools = Arrays.copyOf(pools, nodes);
        }
    }

    int slots() {
        return held.length;
    }

    /** The usable backend held for this node, or null (an unusable one is let go). */
    BackendConnection usable(int node) {
        BackendConnection backend = node < held.length ? held[node] : null;
        if (backend != null && !backend.isUsable()) {
            held[node] = null;
            return null;
        }
        return backend;
    }

    /** The backend held for this node, usable or not, or null. */
    BackendConnection get(int node) {
        return node < held.length ? held[node] : null;
    }

    boolean holdsAny() {
        for (BackendConnection backend : held) {
            if (backend != null) {
                return true;
            }
        }
        return false;
    }

    void put(int node, BackendConnection backend) {
        ensureSlots(node + 1);
        held[node] = backend;
    }

    /** Lets go of the backend held for this node (the caller releases or closes it). */
    BackendConnection remove(int node) {
        BackendConnection backend = get(node);
        if (backend != null) {
            held[node] = null;
        }
        return backend;
    }

    /** Forgets {@code backend} if it is the one held for its node. */
    void forget(BackendConnection backend) {
        int node = backend.nodeIndex();
        if (node < held.length && held[node] == backend) {
            held[node] = null;
        }
    }

    boolean acquiring(int node) {
        return acquiring == node;
    }

    /** Asks the node's pool for a backend, on the session's loop. */
    Future<BackendConnection> acquire(NodeStatus node, EventLoop loop) {
        acquiring = node.index();
        ensureSlots(node.index() + 1);
        BackendPool pool = pools[node.index()];
        if (pool == null) {
            pool = poolManager.pool(node, user, database, password);
            pools[node.index()] = pool;
        }
        return pool.acquire(loop);
    }

    /** The acquisition for this node ended (with a backend or not). */
    void acquired(int node) {
        if (acquiring == node) {
            acquiring = -1;
        }
    }

    void forEach(Consumer<BackendConnection> action) {
        for (BackendConnection backend : held) {
            if (backend != null) {
                action.accept(backend);
            }
        }
    }

    /** Lets go of every backend, each handed to {@code action}. */
    void removeAll(Consumer<BackendConnection> action) {
        for (int i = 0; i < held.length; i++) {
            BackendConnection backend = held[i];
            held[i] = null;
            if (backend != null) {
                action.accept(backend);
            }
        }
    }

    /**
     * The topology changed: backends held on nodes that no longer serve this session's work
     * (a demoted or fenced old primary, a replica gone bad) are given up while idle, except
     * {@code busy}. State that lives only on the old primary (temp tables, LISTEN, ...) cannot
     * move: a {@code pinned} session is ended with 57P01 rather than silently continued without
     * it. Returns the backends given up.
     */
    List<BackendConnection> dropUnserving(Topology topology, BackendConnection busy, boolean pinned) {
        ensureSlots(topology.nodes().size());
        NodeStatus primary = topology.primary();
        List<BackendConnection> dropped = new ArrayList<>(0);
        for (int i = 0; i < held.length; i++) {
            BackendConnection backend = held[i];
            if (backend == null || (primary != null && primary.index() == i)) {
                continue;
            }
            NodeStatus node = topology.node(i);
            boolean serves = node.role() == Role.REPLICA && node.isUp();
            if (serves || !backend.isIdle() || backend == busy) {
                continue;
            }
            if (primary != null && node.role() != Role.REPLICA && pinned) {
                throw new PgProtocolException(SqlState.ADMIN_SHUTDOWN, "the primary moved to " + primary.name()
                        + "; this session's temporary tables, LISTEN channels, advisory locks or held cursors "
                        + "stayed on " + node.name() + ": reconnect");
            }
            held[i] = null;
            dropped.add(backend);
            backend.close();
        }
        return dropped;
    }
}
