package io.pgrelay.core.ops;

import io.pgrelay.core.cluster.ClusterState;
import io.pgrelay.core.cluster.Health;
import io.pgrelay.core.cluster.NodeStatus;
import io.pgrelay.core.cluster.Role;
import io.pgrelay.core.cluster.Topology;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The way out of a failover its leader left unfinished while the old primary lives on. That leader
 * fenced the primary and had every instance hold writes (the cluster record names no primary),
 * then died before it promoted; the next leader finishes the failover only if a quorum sees the
 * primary down. When the old primary answers instead, writes would be refused for good. So once
 * this instance leads and, for {@code after} without a break, sees every node answer and the
 * fenced old primary as the only node out of recovery (nothing was promoted), it makes that node
 * writable again, unfences it and has the record name it: the failover is rolled back, as its
 * leader would have done had the promotion failed.
 */
final class AbandonedFailover {
    private static final Logger log = LoggerFactory.getLogger(PgClusterOperations.class);

    private final ClusterState cluster;
    private final OperationLock lock;
    private final Executor background;
    private final NodeChanges nodes;
    private final StandbySql standbySql;
    private final Supplier<PromotionGuard> guard;
    private final Duration after;
    private final AtomicBoolean pending = new AtomicBoolean();
    /** With coordination: whether this instance may name {@code primary} again (it leads, no quorum sees it down). */
    private volatile Predicate<String> mayReinstate = primary -> false;
    /** The node seen abandoned and since when (System.nanoTime); null while none is. */
    private volatile Sighting sighting;

    private record Sighting(String node, long sinceNanos) {
    }

    /** {@code after} null: never (one instance alone cannot be left in that state). */
    AbandonedFailover(ClusterState cluster, OperationLock lock, Executor background, NodeChanges nodes,
                      StandbySql standbySql, Supplier<PromotionGuard> guard, Duration after) {
        this.cluster = cluster;
        this.lock = lock;
        this.background = background;
        this.nodes = nodes;
        this.standbySql = standbySql;
        this.guard = guard;
        this.after = after;
    }

    void reinstateOnlyWhen(Predicate<String> allowed) {
        this.mayReinstate = allowed;
    }

    /** On the monitor's thread after every change: decide quickly, hand the work to the background thread. */
    void onTopology(Topology topology) {
        NodeStatus old = after == null || lock.running() ? null : abandonedPrimary(topology);
        if (old == null || !mayReinstate.test(old.name())) {
            sighting = null;
            return;
        }
        Sighting seen = sighting;
        long now = System.nanoTime();
        if (seen == null || !seen.node().equals(old.name())) {
            sighting = new Sighting(old.name(), now);
            log.warn("no primary in the cluster record and {} fenced, yet it answers as the only primary: a failover"
                    + " left unfinished; naming it primary again unless that changes within {} ms", old.name(),
                    after.toMillis());
        } else if (now - seen.sinceNanos() >= after.toNanos() && pending.compareAndSet(false, true)) {
            background.execute(() -> {
                try {
                    reinstate(old.name());
                } finally {
                    sighting = null;
                    pending.set(false);
                }
            });
        }
    }

    /** The fenced old primary of an abandoned failover, when every node answers and it alone is out of recovery. */
    static NodeStatus abandonedPrimary(Topology topology) {
        if (topology.primary() != null) {
            return null;
        }
        NodeStatus primary = null;
        for (NodeStatus node : topology.nodes()) {
            if (node.health() == Health.REMOVED) {
                continue;
            }
            if (node.observedAtMillis() == 0 || node.consecutiveFailures() != 0) {
                return null; // a node we cannot see might be the one that was promoted
            }
            if (node.role() == Role.PRIMARY) {
                if (primary != null) {
                    return null;
                }
                primary = node;
            } else if (node.role() != Role.REPLICA) {
                return null;
            }
        }
        return primary != null && primary.health() == Health.FENCED ? primary : null;
    }

    private void reinstate(String name) {
        try {
            lock.acquire("name " + name + " primary again");
        } catch (OperationException e) {
            return; // an operator's call runs: it decides
        }
        try {
            NodeStatus old = abandonedPrimary(cluster.current());
            if (old == null || !old.name().equals(name) || !mayReinstate.test(name)) {
                return;
            }
            Steps steps = new Steps("name " + name + " primary again (failover left unfinished)", "automatic");
            try {
                steps.attempt("make " + name + " writable", () -> standbySql.readOnly(old.config(), false));
                steps.run("unfence " + name, () -> {
                    nodes.setHealth(old.index(), Health.UP);
                    return null;
                });
                steps.run("name " + name + " primary for every pgrelay instance", () -> {
                    guard.get().reinstate(name);
                    return null;
                });
                steps.success();
            } catch (Steps.Failed e) {
                steps.failure(e.getMessage());
            }
        } finally {
            lock.release();
        }
    }
}
