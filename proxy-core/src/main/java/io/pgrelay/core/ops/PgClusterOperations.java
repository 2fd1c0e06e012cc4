package io.pgrelay.core.ops;

import io.pgrelay.core.cluster.ClusterMonitor;
import io.pgrelay.core.cluster.ClusterState;
import io.pgrelay.core.cluster.Health;
import io.pgrelay.core.cluster.Lsn;
import io.pgrelay.core.cluster.NodeStatus;
import io.pgrelay.core.cluster.Role;
import io.pgrelay.core.cluster.Topology;
import io.pgrelay.core.config.ProxyConfig;
import io.pgrelay.core.config.ProxyConfig.NodeConfig;
import io.pgrelay.core.ops.OperationException.Kind;
import io.pgrelay.core.route.PrimaryGate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;

/**
 * {@link ClusterOperations} on PostgreSQL streaming replication: promotion with
 * {@code pg_promote}, re-pointing standbys with {@code ALTER SYSTEM SET primary_conninfo} plus
 * {@code pg_reload_conf()} (PostgreSQL 13+ applies it without a restart), fencing in the
 * {@link ClusterState}, replication modes through {@code synchronous_standby_names}.
 *
 * <p>Failover and switchover are here; the topology is watched by {@link FailoverTrigger}
 * (automatic failover, the node-down hook, stale primaries), the operator's node changes are
 * {@link NodeChanges}, the replication modes {@link ReplicationModeControl}, the SQL on the nodes
 * {@link StandbySql}. One operation runs at a time ({@link OperationLock}); a second one is
 * refused with {@link Kind#CONFLICT}.
 */
public final class PgClusterOperations implements ClusterOperations, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PgClusterOperations.class);
    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(5);

    private final ProxyConfig config;
    private final ClusterState cluster;
    private final ClusterMonitor monitor;
    private final PrimaryGate gate;
    private final FailoverHooks hooks;
    private final OperationLock lock = new OperationLock();
    private final StandbySql standbySql;
    private final ReplicationModeControl modes;
    private final NodeChanges nodes;
    private final FailoverTrigger trigger;
    private final AbandonedFailover abandoned;
    private final ExecutorService background = Executors.newSingleThreadExecutor(r -> {
        Thread thread = new Thread(r, "pgrelay-failover");
        thread.setDaemon(true);
        return thread;
    });
    private volatile PromotionGuard guard = PromotionGuard.NONE;
    private volatile Runnable failoverDone = () -> { };
    private volatile Runnable switchoverDone = () -> { };

    public PgClusterOperations(ProxyConfig config, ClusterState cluster, ClusterMonitor monitor, PrimaryGate gate) {
        this.config = config;
        this.cluster = cluster;
        this.monitor = monitor;
        this.gate = gate;
        this.standbySql = new StandbySql(new NodeSql(config.monitor()));
        this.modes = new ReplicationModeControl(cluster, standbySql);
        this.nodes = new NodeChanges(cluster, monitor, lock, modes);
        this.hooks = new FailoverHooks(config.failover().hooks(), config.failover().hookTimeout());
        this.trigger = new FailoverTrigger(config, cluster, monitor, lock, background, hooks, nodes,
                () -> failover(null, "automatic"));
        cluster.addListener(trigger::onTopology);
        // A leader's lease lapses within the TTL; a promotion it sent shows within another.
        this.abandoned = new AbandonedFailover(cluster, lock, background, nodes, standbySql, () -> guard,
                config.coordination().etcd() == null ? null : config.coordination().etcd().ttl().multipliedBy(2));
        cluster.addListener(abandoned::onTopology);
    }

    /** Counts completed failovers and switchovers (the metrics live in the context built after this). */
    public void countEvents(Runnable failover, Runnable switchover) {
        this.failoverDone = failover;
        this.switchoverDone = switchover;
    }

    /** With coordination: what runs just before a promotion ({@link PromotionGuard}). */
    public void guardPromotions(PromotionGuard guard) {
        this.guard = guard;
    }

    /** With coordination: automatic failover only when {@code allowed} accepts the primary's name. */
    public void failOverOnlyWhen(Predicate<String> allowed) {
        trigger.failOverOnlyWhen(allowed);
    }

    /** With coordination: an abandoned failover's old primary is named again only when {@code allowed} accepts it. */
    public void reinstateOnlyWhen(Predicate<String> allowed) {
        abandoned.reinstateOnlyWhen(allowed);
    }

    /**
     * The nodes this instance sees down for the whole detection window (see
     * {@link FailoverTrigger#nodesSeenDown}): what it publishes for the quorum rule.
     */
    public Set<String> nodesSeenDown() {
        return trigger.nodesSeenDown();
    }

    // ------------------------------------------------------------------ failover

    @Override
    public OperationResult failover(String candidate, String actor) {
        lock.acquire("failover");
        try {
            Topology topology = cluster.current();
            NodeStatus old = topology.primary() != null ? topology.primary()
                    : trigger.lastPrimary() >= 0 ? topology.node(trigger.lastPrimary()) : null;
            NodeStatus named = candidate == null ? null : promotable(topology, candidate, old);
            Steps steps = new Steps("failover", actor);
            Health oldHealth = old == null ? null : old.health();
            boolean promoted = false;
            boolean held = false;
            try {
                if (old != null) {
                    steps.run("fence old primary " + old.name(), () -> {
                        setHealth(old.index(), Health.FENCED);
                        return "never routed to again until unfenced";
                    });
                    if (oldHealth == Health.UP) {
                        // The primary may only look dead to us: keep clients that bypass pgrelay off it.
                        steps.attempt("make " + old.name() + " read-only", () -> standbySql.readOnly(old.config(), true));
                    }
                } else {
                    steps.skipped("fence old primary", "no primary known");
                }
                NodeStatus chosen = named != null ? named : mostAdvanced(cluster.current(), old, true, steps);
                if (chosen == null) {
                    throw new Steps.Failed("no replica is available for promotion");
                }
                List<String> standbys = modes.standbyNamesAfter(chosen, old);
                steps.run("replication mode on " + chosen.name(), () -> modes.apply(chosen.config(), standbys));
                held = true;
                steps.run("no primary for every pgrelay instance", guard::holdWrites);
                steps.run("promote " + chosen.name(), () -> standbySql.promote(chosen.config()));
                promoted = true;
                steps.run("probe " + chosen.name(), () -> {
                    monitor.probe(chosen.index());
                    NodeStatus now = routedPrimary(chosen);
                    return "primary is " + (now == null ? "(none)" : now.name());
                });
                repointOthers(steps, chosen, old);
                steps.run("probe all nodes", () -> {
                    monitor.probeAll(PROBE_TIMEOUT);
                    return cluster.current().toString();
                });
                hooks.promoted("failover", old, chosen);
                steps.note("hooks", hooks.size() + " queued", 0);
                failoverDone.run();
                return steps.success();
            } catch (Steps.Failed e) {
                if (held && !promoted) {
                    steps.attempt("writes back to the recorded primary", () -> {
                        guard.release();
                        return null;
                    });
                }
                if (!promoted && old != null && oldHealth != Health.FENCED) {
                    // Nothing changed on the cluster: give the old primary back its state.
                    steps.attempt("restore " + old.name() + " to " + oldHealth.label(), () -> {
                        setHealth(old.index(), oldHealth);
                        return null;
                    });
                }
                return steps.failure(e.getMessage());
            }
        } finally {
            lock.release();
        }
    }

    /** A replica named by the operator that can be promoted now. */
    private NodeStatus promotable(Topology topology, String name, NodeStatus primary) {
        NodeStatus node = NodeChanges.requireNode(topology, name);
        if (primary != null && node.index() == primary.index() && node.isUp()) {
            throw new OperationException(Kind.CONFLICT, name + " is the primary already");
        }
        if (node.role() != Role.REPLICA || !node.isUp()) {
            throw new OperationException(Kind.CONFLICT, name + " is not a usable replica (role "
                    + node.role().label() + ", state " + node.health().label() + ")");
        }
        return node;
    }

    /**
     * The replica with the highest received LSN (ties: replay LSN, then name), asked directly
     * rather than taken from the last probe, which may be an interval old. With
     * {@code byReceive == false} (switchover) the replay LSN comes first.
     */
    private NodeStatus mostAdvanced(Topology topology, NodeStatus exclude, boolean byReceive, Steps steps) {
        record Position(NodeStatus node, long receive, long replay) {
        }
        List<Position> positions = new ArrayList<>();
        for (NodeStatus node : topology.nodes()) {
            if (node.role() != Role.REPLICA || !node.isUp() || exclude != null && node.index() == exclude.index()) {
                continue;
            }
            steps.attempt("position of " + node.name(), () -> {
                try (Connection c = standbySql.connect(node.config()); Statement st = c.createStatement();
                     ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery(), pg_last_wal_receive_lsn()::text,"
                             + " pg_last_wal_replay_lsn()::text")) {
                    rs.next();
                    if (!rs.getBoolean(1)) {
                        throw new IllegalStateException(node.name() + " is not in recovery");
                    }
                    long replay = Lsn.parse(rs.getString(3));
                    long receive = rs.getString(2) == null ? replay : Lsn.parse(rs.getString(2));
                    positions.add(new Position(node, receive, replay));
                    return "received " + Lsn.format(receive) + ", replayed " + Lsn.format(replay);
                }
            });
        }
        Comparator<Position> byReceiveLsn = (a, b) -> Lsn.compare(b.receive, a.receive);
        Comparator<Position> byReplayLsn = (a, b) -> Lsn.compare(b.replay, a.replay);
        Comparator<Position> order = (byReceive ? byReceiveLsn.thenComparing(byReplayLsn)
                : byReplayLsn.thenComparing(byReceiveLsn)).thenComparing(p -> p.node.name());
        NodeStatus best = positions.stream().min(order).map(Position::node).orElse(null);
        if (best != null) {
            steps.note("candidate", best.name(), 0);
        }
        return best;
    }

    /**
     * Makes every other standby stream from {@code primary}: a physical slot of the name it
     * already uses is created there, then its {@code primary_conninfo} is rewritten (with
     * {@code application_name} = its node name, which the replication modes rely on).
     */
    private void repointOthers(Steps steps, NodeStatus primary, NodeStatus old) {
        for (NodeStatus node : cluster.current().nodes()) {
            if (node.index() == primary.index() || old != null && node.index() == old.index()
                    || node.health() == Health.REMOVED || node.health() == Health.FENCED) {
                continue;
            }
            if (node.role() != Role.REPLICA) {
                steps.skipped("re-point " + node.name(), "role " + node.role().label() + ", state "
                        + node.health().label());
                continue;
            }
            steps.attempt("re-point " + node.name() + " to " + primary.name(), () -> standbySql.repoint(node, primary.config()));
        }
    }

    // ------------------------------------------------------------------ switchover

    @Override
    public OperationResult switchover(String candidate, String actor) {
        lock.acquire("switchover");
        try {
            Topology topology = cluster.current();
            NodeStatus old = topology.primary();
            if (old == null) {
                throw new OperationException(Kind.UNAVAILABLE, topology.splitBrain()
                        ? "split brain: fence all but one primary first" : "no primary to switch over from");
            }
            NodeStatus named = candidate == null ? null : promotable(topology, candidate, old);
            Steps steps = new Steps("switchover", actor);
            NodeStatus chosen = named != null ? named : mostAdvanced(topology, old, false, steps);
            if (chosen == null) {
                return steps.failure("no replica is available for promotion");
            }
            Duration timeout = config.failover().switchoverTimeout();
            long deadline = System.nanoTime() + timeout.toNanos();
            long pauseStart = System.nanoTime();
            boolean gateOpen = false;
            boolean readOnly = false;
            boolean promoted = false;
            boolean held = false;
            List<NodeStatus> detached = new ArrayList<>();
            gate.close();
            try {
                steps.run("hold new transactions, wait for in-flight ones", () -> {
                    try {
                        gate.drained().get(remainingNanos(deadline), TimeUnit.NANOSECONDS);
                    } catch (TimeoutException e) {
                        throw new Steps.Failed(gate.inside() + " session(s) still busy on the primary after "
                                + timeout.toMillis() + " ms (failover.switchover-timeout)");
                    }
                    return null;
                });
                readOnly = true;
                steps.run("make " + old.name() + " read-only", () -> standbySql.readOnly(old.config(), true));
                String lsn = steps.run("last WAL position of " + old.name(), () -> {
                    try (Connection c = standbySql.connect(old.config())) {
                        return NodeSql.queryString(c, "SELECT pg_current_wal_lsn()::text");
                    }
                });
                steps.run("wait until " + chosen.name() + " replayed " + lsn,
                        () -> standbySql.awaitReplay(chosen.config(), Lsn.parse(lsn), deadline));
                // The read-only old primary still writes WAL (autovacuum, checkpoints). A standby
                // that received any of it past the promotion point could never follow the new
                // timeline: cut the others off first, then let the candidate catch up with them.
                long received = Lsn.parse(steps.run("detach the other replicas from " + old.name(),
                        () -> Lsn.format(detachOthers(chosen, old, detached, deadline))));
                if (received != Lsn.INVALID) {
                    steps.run("wait until " + chosen.name() + " replayed what they received, " + Lsn.format(received),
                            () -> standbySql.awaitReplay(chosen.config(), received, deadline));
                }
                List<String> standbys = modes.standbyNamesAfter(chosen, old);
                steps.run("replication mode on " + chosen.name(), () -> modes.apply(chosen.config(), standbys));
                steps.run("fence old primary " + old.name(), () -> {
                    setHealth(old.index(), Health.FENCED);
                    return "stays read-only; rejoining it as a replica needs a restart (see failover.hooks)";
                });
                held = true;
                steps.run("no primary for every pgrelay instance", guard::holdWrites);
                steps.run("promote " + chosen.name(), () -> standbySql.promote(chosen.config()));
                promoted = true;
                repointOthers(steps, chosen, old);
                steps.run("probe all nodes", () -> {
                    monitor.probeAll(PROBE_TIMEOUT);
                    NodeStatus now = routedPrimary(chosen);
                    if (now == null || now.index() != chosen.index()) {
                        throw new IllegalStateException("the monitor does not see " + chosen.name()
                                + " as primary: " + cluster.current());
                    }
                    return cluster.current().toString();
                });
                gate.open();
                gateOpen = true;
                steps.note("writes paused", "resumed on " + chosen.name(), (System.nanoTime() - pauseStart) / 1_000_000);
                hooks.promoted("switchover", old, chosen);
                steps.note("hooks", hooks.size() + " queued", 0);
                switchoverDone.run();
                return steps.success();
            } catch (Steps.Failed e) {
                if (held && !promoted) {
                    steps.attempt("writes back to the recorded primary", () -> {
                        guard.release();
                        return null;
                    });
                }
                if (!promoted) {
                    for (NodeStatus node : detached) {
                        steps.attempt("re-attach " + node.name() + " to " + old.name(), () -> standbySql.repoint(node, old.config()));
                    }
                    if (readOnly) {
                        steps.attempt("make " + old.name() + " writable again", () -> standbySql.readOnly(old.config(), false));
                    }
                    steps.attempt("restore " + old.name(), () -> {
                        setHealth(old.index(), old.health());
                        return null;
                    });
                }
                return steps.failure(e.getMessage() + (promoted ? "" : "; the primary stays " + old.name()));
            } finally {
                if (!gateOpen) {
                    gate.open();
                    steps.note("writes paused", "resumed", (System.nanoTime() - pauseStart) / 1_000_000);
                }
            }
        } finally {
            lock.release();
        }
    }

    /**
     * Stops every other replica's WAL receiver (empty {@code primary_conninfo}; it keeps
     * replaying what it has) and returns the furthest position any of them received.
     */
    private long detachOthers(NodeStatus chosen, NodeStatus old, List<NodeStatus> detached, long deadline)
            throws Exception {
        long furthest = Lsn.INVALID;
        for (NodeStatus node : cluster.current().nodes()) {
            if (node.index() == chosen.index() || node.index() == old.index() || node.role() != Role.REPLICA
                    || node.health() == Health.REMOVED || node.health() == Health.FENCED || !node.isUp()) {
                continue;
            }
            try (Connection c = standbySql.connect(node.config())) {
                NodeSql.setSystem(c, "primary_conninfo", "");
                detached.add(node);
                while (!"0".equals(NodeSql.queryString(c, "SELECT count(*) FROM pg_stat_wal_receiver"))) {
                    if (System.nanoTime() - deadline > 0) {
                        throw new Steps.Failed(node.name() + " kept its WAL receiver running");
                    }
                    Thread.sleep(10);
                }
                long receivedLsn = Lsn.parse(NodeSql.queryString(c, "SELECT pg_last_wal_receive_lsn()::text"));
                if (Lsn.compare(receivedLsn, furthest) > 0) {
                    furthest = receivedLsn;
                }
            }
        }
        return furthest;
    }

    private static long remainingNanos(long deadline) {
        return Math.max(0, deadline - System.nanoTime());
    }

    // ------------------------------------------------------------------ replication mode

    @Override
    public OperationResult setReplicationMode(String requested, Integer acks, String actor) {
        lock.acquire("set replication mode");
        try {
            return modes.set(requested, acks, actor);
        } finally {
            lock.release();
        }
    }

    @Override
    public ReplicationMode replicationMode() {
        return modes.mode();
    }

    /** Takes the mode the cluster record names (another instance set it); changes nothing on the nodes. */
    public void adoptReplicationMode(ReplicationMode recorded) {
        modes.adopt(recorded);
    }

    /**
     * The primary writes go to once {@code promoted} is seen as primary. Bound to a cluster record,
     * the leader publishes the new primary as soon as its monitor sees it: wait briefly for that.
     */
    private NodeStatus routedPrimary(NodeStatus promoted) throws InterruptedException {
        long deadline = System.nanoTime() + PROBE_TIMEOUT.toNanos();
        Topology now = cluster.current();
        while (now.bound() && now.observedPrimary() != null && now.observedPrimary().index() == promoted.index()
                && now.primary() == null && System.nanoTime() < deadline) {
            Thread.sleep(10);
            now = cluster.current();
        }
        return now.primary();
    }

    // ------------------------------------------------------------------ nodes

    @Override
    public OperationResult addNode(NodeConfig node, String actor) {
        return nodes.add(node, actor);
    }

    @Override
    public OperationResult removeNode(String name, String actor) {
        return nodes.remove(name, actor);
    }

    @Override
    public OperationResult drain(String name, String actor) {
        return nodes.changeHealth("drain", name, actor, Health.DRAINED);
    }

    @Override
    public OperationResult enable(String name, String actor) {
        return nodes.changeHealth("enable", name, actor, null);
    }

    @Override
    public OperationResult fence(String name, String actor) {
        return nodes.changeHealth("fence", name, actor, Health.FENCED);
    }

    @Override
    public OperationResult unfence(String name, String actor) {
        return nodes.changeHealth("unfence", name, actor, null);
    }

    // ------------------------------------------------------------------ shared

    private void setHealth(int index, Health health) {
        nodes.setHealth(index, health);
    }

    @Override
    public void close() {
        background.shutdownNow();
        hooks.close();
    }
}
