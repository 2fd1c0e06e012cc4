package io.pgrelay.core.cluster;

import io.pgrelay.core.config.ProxyConfig.MonitorConfig;
import io.pgrelay.core.config.ProxyConfig.NodeConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Probes every node on its own schedule (never on an event loop) through a one-connection
 * HikariCP pool per node ({@link ProbeConnection}), and folds the results into the
 * {@link ClusterState}: role, timeline, WAL positions, lag, and UP/DOWN after the configured
 * number of consecutive failures. Nodes may be added and removed at runtime.
 */
public final class ClusterMonitor implements NodeProbes, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ClusterMonitor.class);

    static final String PROBE_SQL = """
            SELECT pg_is_in_recovery(),
                   CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END,
                   pg_last_wal_receive_lsn()::text,
                   pg_last_wal_replay_lsn()::text,
                   COALESCE(GREATEST(0, (extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())
                                          * 1000)::bigint), 0),
                   CASE WHEN pg_is_in_recovery()
                        THEN (SELECT received_tli FROM pg_stat_wal_receiver)
                        ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END
            """;

    private final ClusterState state;
    private final MonitorConfig config;
    /** Indexed like the topology; grows when nodes are added at runtime, an entry is null once removed. */
    private final List<ProbeConnection> pools = new CopyOnWriteArrayList<>();
    private final ScheduledThreadPoolExecutor scheduler;
    /** Its own thread: when every probe thread hangs on frozen nodes, deadlines must still fire. */
    private final ScheduledExecutorService deadlines;
    private final Map<Integer, ScheduledFuture<?>> tasks = new ConcurrentHashMap<>();
    private volatile boolean started;

    public ClusterMonitor(ClusterState state, List<NodeConfig> nodes, MonitorConfig config) {
        this.state = state;
        this.config = config;
        AtomicInteger threads = new AtomicInteger();
        this.scheduler = new ScheduledThreadPoolExecutor(Math.max(1, nodes.size()), r -> {
            Thread thread = new Thread(r, "pgrelay-monitor-" + threads.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        this.deadlines = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "pgrelay-monitor-deadlines");
            thread.setDaemon(true);
            return thread;
        });
        for (NodeConfig node : nodes) {
            pools.add(newPool(node));
        }
    }

    private ProbeConnection newPool(NodeConfig node) {
        return new ProbeConnection(node, config, PROBE_SQL);
    }

    /** Probes every node once, waiting at most about a connect plus query timeout; then starts the schedule. */
    public void start() {
        List<NodeStatus> nodes = state.current().nodes();
        CountDownLatch first = new CountDownLatch(nodes.size());
        for (NodeStatus node : nodes) {
            scheduler.execute(() -> {
                try {
                    probe(node.index());
                } finally {
                    first.countDown();
                }
            });
        }
        try {
            first.await(config.connectTimeout().toMillis() + config.queryTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (NodeStatus node : nodes) {
            schedule(node.index());
        }
        started = true;
        log.info("monitor started: {}", state.current());
    }

    private void schedule(int index) {
        long intervalMillis = config.interval().toMillis();
        tasks.put(index, scheduler.scheduleWithFixedDelay(() -> probe(index), intervalMillis, intervalMillis,
                TimeUnit.MILLISECONDS));
    }

    /** The monitor's probe interval. */
    public Duration interval() {
        return config.interval();
    }

    /**
     * Starts watching a node that was just appended to the topology at {@code index}. Blocks
     * until its first probe is applied, so callers see its role right away.
     */
    public synchronized void addNode(int index, NodeConfig node) {
        if (index != pools.size()) {
            throw new IllegalArgumentException("node index " + index + " != " + pools.size());
        }
        pools.add(newPool(node));
        // One thread per node, as at start: a hanging probe must not delay the others.
        scheduler.setCorePoolSize(Math.max(scheduler.getCorePoolSize(), pools.size()));
        probe(index);
        if (started) {
            schedule(index);
        }
    }

    /** Stops probing a removed node and closes its connection; its index stays reserved. */
    public synchronized void removeNode(int index) {
        ScheduledFuture<?> task = tasks.remove(index);
        if (task != null) {
            task.cancel(false);
        }
        ProbeConnection pool = pools.get(index);
        if (pool != null) {
            pools.set(index, null);
            pool.close();
        }
    }

    /**
     * Probes every node in parallel and returns once all results are applied (or the timeout
     * passed): after a promotion the topology must show the new primary at once, not within
     * an interval. Call from any thread except an event loop.
     */
    public void probeAll(Duration timeout) {
        List<NodeStatus> nodes = state.current().nodes();
        List<Future<?>> running = new ArrayList<>();
        for (NodeStatus node : nodes) {
            if (node.health() != Health.REMOVED) {
                running.add(scheduler.submit(() -> probe(node.index())));
            }
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Future<?> future : running) {
            try {
                future.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                return;
            } catch (ExecutionException e) {
                log.debug("probe failed", e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Probes one node now and applies the result; safe to call from any non-event-loop thread. */
    public void probe(int index) {
        NodeConfig node = state.current().node(index).config();
        ProbeConnection pool = index < pools.size() ? pools.get(index) : null;
        if (pool == null) {
            return; // removed
        }
        synchronized (pool) { // the schedule and probeAll may probe one node at once
            probe(index, node, pool);
        }
    }

    private void probe(int index, NodeConfig node, ProbeConnection pool) {
        AtomicBoolean timedOut = new AtomicBoolean();
        ScheduledFuture<?> deadline = null;
        try {
            PreparedStatement statement = pool.statement();
            long timeoutMillis = config.queryTimeout().toMillis();
            deadline = deadlines.schedule(() -> {
                timedOut.set(true);
                pool.abort();
                applyTimeout(index, node, timeoutMillis);
            }, timeoutMillis, TimeUnit.MILLISECONDS);
            try (ResultSet rs = statement.executeQuery()) {
                rs.next();
                boolean inRecovery = rs.getBoolean(1);
                long currentLsn = Lsn.parse(rs.getString(2));
                long receiveLsn = Lsn.parse(rs.getString(3));
                long replayLsn = Lsn.parse(rs.getString(4));
                long replayAgeMillis = rs.getLong(5);
                int timeline = rs.getInt(6);
                long lagMillis = inRecovery ? replayDelayMillis(receiveLsn, replayLsn, replayAgeMillis) : 0;
                deadline.cancel(false);
                if (!timedOut.get()) {
                    applySuccess(index, inRecovery ? Role.REPLICA : Role.PRIMARY, timeline, currentLsn, receiveLsn,
                            replayLsn, lagMillis);
                }
            }
        } catch (SQLException | RuntimeException e) {
            pool.discard();
            if (!timedOut.get()) {
                applyFailure(index, node, e.getMessage());
            }
        } finally {
            if (deadline != null) {
                deadline.cancel(false);
            }
        }
    }

    /** A probe got no answer in time: counts as a failed probe, and bans a replica at once. */
    private void applyTimeout(int index, NodeConfig node, long timeoutMillis) {
        String message = "no answer to the health probe within " + timeoutMillis + " ms";
        applyFailure(index, node, message);
        state.ban(index, Ban.Cause.PROBE_TIMEOUT, message, config.banTime().toMillis());
    }

    /** Probes one node soon on the monitor's threads, e.g. when a session saw its role change. */
    @Override
    public void probeSoon(int index) {
        if (!scheduler.isShutdown()) {
            scheduler.execute(() -> probe(index));
        }
    }

    /**
     * 0 when all received WAL is replayed (an idle primary must not look like lag); otherwise the
     * age of the last replayed commit, which the probe computes on the node's own clock.
     */
    static long replayDelayMillis(long receiveLsn, long replayLsn, long replayAgeMillis) {
        return Lsn.compare(replayLsn, receiveLsn) >= 0 ? 0 : replayAgeMillis;
    }

    private void applySuccess(int index, Role role, int timeline, long currentLsn, long receiveLsn, long replayLsn,
                              long lagMillis) {
        long observedAt = System.currentTimeMillis();
        state.update(topology -> {
            NodeStatus old = topology.node(index);
            Health health = old.health().isSticky() ? old.health() : Health.UP;
            // A ban outlives answers until it expires; a node that became primary has none.
            Ban ban = old.ban() == null || old.ban().expired(observedAt) || role != Role.REPLICA ? null : old.ban();
            NodeStatus updated = new NodeStatus(index, old.config(), role, health, timeline, currentLsn, receiveLsn,
                    replayLsn, old.lagBytes(), lagMillis, 0, observedAt, ban == null ? null : old.lastError(), ban);
            if (old.role() != role || old.health() != health) {
                log.info("node {} is {} and {}", old.name(), role.label(), health.label());
            }
            if (old.ban() != null && ban == null) {
                log.info("node {} takes reads again: its ban ({}) is over", old.name(), old.ban().cause().label());
            }
            return withLagBytes(topology.with(updated));
        });
    }

    private void applyFailure(int index, NodeConfig node, String error) {
        state.update(topology -> {
            NodeStatus old = topology.node(index);
            int failures = old.consecutiveFailures() + 1;
            boolean down = failures >= config.failureThreshold() || old.health() == Health.DOWN;
            Health health = old.health().isSticky() ? old.health()
                    : down ? Health.DOWN : old.health();
            if (down && old.health() == Health.UP) {
                log.warn("node {} ({}:{}) is down after {} failed probes: {}", node.name(), node.host(), node.port(),
                        failures, error);
            }
            return topology.with(new NodeStatus(index, old.config(), old.role(), health, old.timeline(),
                    old.currentLsn(), old.receiveLsn(), old.replayLsn(), old.lagBytes(), old.lagMillis(), failures,
                    old.observedAtMillis(), String.valueOf(error), old.ban()));
        });
    }

    /** Recomputes every replica's byte lag against the primary's latest position. */
    private static Topology withLagBytes(Topology topology) {
        NodeStatus primary = topology.observedPrimary();
        Topology result = topology;
        for (NodeStatus node : topology.nodes()) {
            long lagBytes;
            if (node.role() == Role.PRIMARY) {
                lagBytes = 0;
            } else if (primary == null || node.replayLsn() == 0) {
                lagBytes = -1;
            } else {
                lagBytes = Math.max(0, primary.currentLsn() - node.replayLsn());
            }
            if (lagBytes != node.lagBytes()) {
                result = result.with(node.withLag(lagBytes, node.lagMillis()));
            }
        }
        return result;
    }

    @Override
    public void close() {
        tasks.values().forEach(task -> task.cancel(false));
        scheduler.shutdownNow();
        deadlines.shutdownNow();
        for (ProbeConnection pool : pools) {
            if (pool != null) {
                pool.close();
            }
        }
    }
}
