package io.pgrelay.core.backend;

import io.netty.util.concurrent.ScheduledFuture;
import io.pgrelay.core.cluster.NodeStatus;
import io.pgrelay.core.config.ProxyConfig.PoolConfig;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/** All backend pools, created on first use per (node, user, database). */
public final class PoolManager implements BackendPools, AutoCloseable {
    private final ConcurrentHashMap<PoolKey, BackendPool> pools = new ConcurrentHashMap<>();
    private final PoolConfig config;
    private final BackendConnector connector;
    private final EventLoops loops;
    private final List<ScheduledFuture<?>> sweepers = new ArrayList<>();

    public PoolManager(PoolConfig config, BackendConnector connector, EventLoops loops) {
        this.config = config;
        this.connector = connector;
        this.loops = loops;
        long period = Math.max(100, Math.min(1000, config.idleTimeout().toMillis() / 4));
        for (int i = 0; i < loops.size(); i++) {
            int loopIndex = i;
            sweepers.add(loops.get(i).scheduleAtFixedRate(() -> {
                long now = System.nanoTime();
                for (BackendPool pool : pools.values()) {
                    pool.closeIdle(loopIndex, now);
                }
            }, period, period, TimeUnit.MILLISECONDS));
        }
    }

    @Override
    public BackendPool pool(NodeStatus node, String user, String database, String password) {
        PoolKey key = new PoolKey(node.index(), node.name(), user, database);
        BackendPool pool = pools.get(key);
        if (pool != null) {
            return pool;
        }
        return pools.computeIfAbsent(key, k -> new BackendPool(k, node.host(), node.port(), password,
                config.maxSize(), config.acquireTimeout().toMillis(), config.idleTimeout().toMillis(), connector,
                loops));
    }

    public Collection<BackendPool> pools() {
        return pools.values();
    }

    @Override
    public void close() {
        sweepers.forEach(s -> s.cancel(false));
        pools.values().forEach(BackendPool::close);
    }
}
