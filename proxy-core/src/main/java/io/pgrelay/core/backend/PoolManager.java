package io.pgrelay.core.backend;

import io.pgrelay.core.cluster.NodeStatus;
import io.pgrelay.core.config.ProxyConfig.PoolConfig;

import java.util.Collection;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/** All backend pools, created on first use per (node, user, database). */
public final class PoolManager implements BackendPools, AutoCloseable {
    private final ConcurrentHashMap<PoolKey, BackendPool> pools = new ConcurrentHashMap<>();
    private final PoolConfig config;
    private final BackendConnector connector;
    private final EventLoops loops;
    /**
     * Times the idle sweep from a thread of its own, which hands each loop its share as a task:
     * a task scheduled on an event loop makes Netty read the clock on every loop iteration
     * (to see whether it is due), that is on every client and server read.
     */
    private final ScheduledExecutorService sweepTimer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread thread = new Thread(r, "pgrelay-pool-sweeper");
        thread.setDaemon(true);
        return thread;
    });

    public PoolManager(PoolConfig config, BackendConnector connector, EventLoops loops) {
        this.config = config;
        this.connector = connector;
        this.loops = loops;
        long period = Math.max(100, Math.min(1000, config.idleTimeout().toMillis() / 4));
        sweepTimer.scheduleAtFixedRate(this::sweep, period, period, TimeUnit.MILLISECONDS);
    }

    private void sweep() {
        if (pools.isEmpty()) {
            return;
        }
        for (int i = 0; i < loops.size(); i++) {
            int loopIndex = i;
            try {
                loops.get(i).execute(() -> {
                    long now = System.nanoTime();
                    for (BackendPool pool : pools.values()) {
                        pool.closeIdle(loopIndex, now);
                    }
                });
            } catch (RejectedExecutionException shuttingDown) {
                return;
            }
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
        sweepTimer.shutdownNow();
        pools.values().forEach(BackendPool::close);
    }
}
