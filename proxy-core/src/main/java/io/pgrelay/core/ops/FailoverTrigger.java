package io.pgrelay.core.ops;

import io.pgrelay.core.cluster.ClusterMonitor;
import io.pgrelay.core.cluster.ClusterState;
import io.pgrelay.core.cluster.Health;
import io.pgrelay.core.cluster.NodeStatus;
import io.pgrelay.core.cluster.Role;
import io.pgrelay.core.cluster.Topology;
import io.pgrelay.core.config.ProxyConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Watches the topology (a {@link ClusterState} listener on the monitor's thread, so it decides
 * quickly and hands work to the operations' background thread) for three things: the primary
 * failing for {@code failover.detect} consecutive probes and silent for the detection window
 * (automatic failover), a node going down (the {@code node-down} hook), and stale primaries on a
 * lower timeline (fenced at once).
 */
final class FailoverTrigger {
    private static final Logger log = LoggerFactory.getLogger(PgClusterOperations.class);

    private final ProxyConfig config;
    private final ClusterState cluster;
    private final ClusterMonitor monitor;
    private final OperationLock lock;
    private final Executor background;
    private final FailoverHooks hooks;
    private final NodeChanges nodes;
    private final Supplier<OperationResult> failover;
    private final AtomicBoolean automaticPending = new AtomicBoolean();
    private final Set<Integer> reportedDown = ConcurrentHashMap.newKeySet();
    private final Set<Integer> fencingPending = ConcurrentHashMap.newKeySet();
    /** The last node seen as primary: the one an automatic failover replaces. */
    private volatile int lastPrimary = -1;
    private volatile long automaticRetryAfter;
    /** With coordination: whether this instance may replace the named primary (it leads, a quorum sees it down). */
    private volatile Predicate<String> mayFailOver = primary -> true;

    /** {@code failover} runs an automatic failover (on the background thread) and says how it went. */
    FailoverTrigger(ProxyConfig config, ClusterState cluster, ClusterMonitor monitor, OperationLock lock,
                    Executor background, FailoverHooks hooks, NodeChanges nodes, Supplier<OperationResult> failover) {
        this.config = config;
        this.cluster = cluster;
        this.monitor = monitor;
        this.lock = lock;
        this.background = background;
        this.hooks = hooks;
        this.nodes = nodes;
        this.failover = failover;
    }

    void failOverOnlyWhen(Predicate<String> allowed) {
        this.mayFailOver = allowed;
    }

    /** The node an automatic failover replaces: the last one seen as primary; -1 before any. */
    int lastPrimary() {
        return lastPrimary;
    }

    /**
     * The nodes this instance sees down for the whole detection window: {@code failover.detect}
     * failed probes in a row and no answer for {@code detect - 1} intervals. What it publishes
     * for the quorum rule; cheap, any thread.
     */
    Set<String> nodesSeenDown() {
        Set<String> down = new TreeSet<>();
        for (NodeStatus node : cluster.current().nodes()) {
            if (seenDown(node)) {
                down.add(node.name());
            }
        }
        return down;
    }

    private boolean seenDown(NodeStatus node) {
        // Fenced or drained, a node still answers probes or not: a dead primary fenced by a failover
        // that did not finish must count as down, or no quorum could ever finish it.
        if (node.health() == Health.REMOVED || node.observedAtMillis() == 0
                || node.consecutiveFailures() < config.failover().detect()) {
            return false;
        }
        long silentMillis = System.currentTimeMillis() - node.observedAtMillis();
        return silentMillis >= (config.failover().detect() - 1) * monitor.interval().toMillis();
    }

    /** Runs on the monitor's thread after every change: decide quickly, hand work to the background thread. */
    void onTopology(Topology topology) {
        NodeStatus primary = topology.primary();
        if (primary != null) {
            lastPrimary = primary.index();
        }
        for (NodeStatus node : topology.nodes()) {
            if (node.health() == Health.DOWN && node.observedAtMillis() != 0) {
                if (reportedDown.add(node.index())) {
                    hooks.nodeDown(node, topology);
                }
            } else if (node.health() == Health.UP) {
                reportedDown.remove(node.index());
            }
        }
        fenceStalePrimaries(topology);
        if (shouldFailOver(topology)) {
            background.execute(this::automaticFailover);
        }
    }

    /** A node still claiming to be primary on a lower timeline than the primary is from before a promotion. */
    private void fenceStalePrimaries(Topology topology) {
        NodeStatus primary = topology.primary();
        if (primary == null || topology.claimedPrimaries().size() < 2) {
            return;
        }
        for (NodeStatus node : topology.claimedPrimaries()) {
            if (node != primary && fencingPending.add(node.index())) {
                log.warn("split brain: {} claims to be primary on timeline {} but {} is primary on timeline {};"
                        + " fencing {}", node.name(), node.timeline(), primary.name(), primary.timeline(), node.name());
                background.execute(() -> {
                    try {
                        nodes.setHealth(node.index(), Health.FENCED);
                    } finally {
                        fencingPending.remove(node.index());
                    }
                });
            }
        }
    }

    private boolean shouldFailOver(Topology topology) {
        int index = lastPrimary;
        if (!config.failover().automatic() || index < 0 || lock.running()
                || System.nanoTime() - automaticRetryAfter < 0) {
            return false;
        }
        NodeStatus old = topology.node(index);
        // The primary is fenced only by a failover (an operator cannot fence the primary). With no
        // primary now, that failover did not finish: its leader died between fencing and promoting
        // (the cluster record then names no primary). The next leader finishes it.
        boolean unfinished = old.health() == Health.FENCED && topology.primary() == null;
        if (old.health() == Health.REMOVED || old.health() == Health.FENCED && !unfinished
                || old.consecutiveFailures() < config.failover().detect()) {
            return false;
        }
        // Sessions ask for extra probes when they lose the primary, so failed probes can pile up
        // within milliseconds (a restart looks like that too): the primary must also have been
        // silent for the detection window (failover.detect - 1 intervals after the last answer).
        long silentMillis = System.currentTimeMillis() - old.observedAtMillis();
        if (silentMillis < (config.failover().detect() - 1) * monitor.interval().toMillis()) {
            return false;
        }
        for (NodeStatus node : topology.claimedPrimaries()) {
            if (node.index() != index) {
                return false; // another primary exists: nothing to replace
            }
        }
        for (NodeStatus node : topology.nodes()) {
            if (node.role() == Role.REPLICA && node.isUp()) {
                return mayFailOver.test(old.name()) && automaticPending.compareAndSet(false, true);
            }
        }
        return false;
    }

    private void automaticFailover() {
        try {
            NodeStatus old = cluster.current().node(lastPrimary);
            log.warn("primary {} failed {} consecutive probes (failover.detect = {}): failing over", old.name(),
                    old.consecutiveFailures(), config.failover().detect());
            OperationResult result = failover.get();
            if (!result.success()) {
                automaticRetryAfter = System.nanoTime() + monitor.interval().multipliedBy(5).toNanos();
            }
        } catch (OperationException e) {
            log.warn("automatic failover not started: {}", e.getMessage());
            automaticRetryAfter = System.nanoTime() + monitor.interval().toNanos();
        } catch (RuntimeException e) {
            log.error("automatic failover failed", e);
            automaticRetryAfter = System.nanoTime() + monitor.interval().multipliedBy(5).toNanos();
        } finally {
            automaticPending.set(false);
        }
    }
}
