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
import io.pgrelay.core.route.ReplicaBalancer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;

/**
 * {@link ClusterOperations} on PostgreSQL streaming replication: promotion with
 * {@code pg_promote}, re-pointing standbys with {@code ALTER SYSTEM SET primary_conninfo} plus
 * {@code pg_reload_conf()} (PostgreSQL 13+ applies it without a restart), fencing in the
 * {@link ClusterState}, replication modes through {@code synchronous_standby_names}.
 *
 * <p>Also watches the topology (a {@link ClusterState} listener, so never blocking: work goes
 * to the {@code pgrelay-failover} thread) for three things: the primary failing for
 * {@code failover.detect} consecutive probes (automatic failover), a node going down (hooks),
 * and stale primaries on a lower timeline (fenced at once). One operation runs at a time;
 * a second one is refused with {@link Kind#CONFLICT}.
 */
public final class PgClusterOperations implements ClusterOperations, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PgClusterOperations.class);
    private static final Duration SQL_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration PROMOTE_TIMEOUT = Duration.ofSeconds(40);
    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(5);

    private final ProxyConfig config;
    private final ClusterState cluster;
    private final ClusterMonitor monitor;
    private final PrimaryGate gate;
    private final NodeSql sql;
    private final FailoverHooks hooks;
    private final ReentrantLock busy = new ReentrantLock();
    private final ExecutorService background = Executors.newSingleThreadExecutor(r -> {
        Thread thread = new Thread(r, "pgrelay-failover");
        thread.setDaemon(true);
        return thread;
    });
    private final AtomicBoolean automaticPending = new AtomicBoolean();
    private final Set<Integer> reportedDown = ConcurrentHashMap.newKeySet();
    private final Set<Integer> fencingPending = ConcurrentHashMap.newKeySet();
    private volatile ReplicationMode mode = ReplicationMode.ASYNC;
    /** The last node seen as primary: the one an automatic failover replaces. */
    private volatile int lastPrimary = -1;
    private volatile long automaticRetryAfter;
    /** With coordination: whether this instance may replace the named primary (it leads, a quorum sees it down). */
    private volatile Predicate<String> mayFailOver = primary -> true;
    private volatile PromotionGuard guard = PromotionGuard.NONE;
    private volatile Runnable failoverDone = () -> { };
    private volatile Runnable switchoverDone = () -> { };

    public PgClusterOperations(ProxyConfig config, ClusterState cluster, ClusterMonitor monitor, PrimaryGate gate) {
        this.config = config;
        this.cluster = cluster;
        this.monitor = monitor;
        this.gate = gate;
        this.sql = new NodeSql(config.monitor());
        this.hooks = new FailoverHooks(config.failover().hooks(), config.failover().hookTimeout());
        cluster.addListener(this::onTopology);
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
        this.mayFailOver = allowed;
    }

    /**
     * The nodes this instance sees down for the whole detection window: {@code failover.detect}
     * failed probes in a row and no answer for {@code detect - 1} intervals. What it publishes
     * for the quorum rule; cheap, any thread.
     */
    public Set<String> nodesSeenDown() {
        Set<String> down = new java.util.TreeSet<>();
        for (NodeStatus node : cluster.current().nodes()) {
            if (seenDown(node)) {
                down.add(node.name());
            }
        }
        return down;
    }

    private boolean seenDown(NodeStatus node) {
        if (node.health().isSticky() || node.observedAtMillis() == 0
                || node.consecutiveFailures() < config.failover().detect()) {
            return false;
        }
        long silentMillis = System.currentTimeMillis() - node.observedAtMillis();
        return silentMillis >= (config.failover().detect() - 1) * monitor.interval().toMillis();
    }

    // ------------------------------------------------------------------ watching the topology

    /** Runs on the monitor's thread after every change: decide quickly, hand work to the background thread. */
    private void onTopology(Topology topology) {
        NodeStatus primary = topology.primary();
        if (primary != null) {
            lastPrimary = primary.index();
        }
        for (NodeStatus node : topology.nodes()) {
            if (node.health() == Health.DOWN && node.observedAtMillis() != 0) {
                if (reportedDown.add(node.index())) {
                    fireHook("node-down", node, topology);
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
                        setHealth(node.index(), Health.FENCED);
                    } finally {
                        fencingPending.remove(node.index());
                    }
                });
            }
        }
    }

    private boolean shouldFailOver(Topology topology) {
        int index = lastPrimary;
        if (!config.failover().automatic() || index < 0 || busy.isLocked()
                || System.nanoTime() - automaticRetryAfter < 0) {
            return false;
        }
        NodeStatus old = topology.node(index);
        if (old.health() == Health.FENCED || old.health() == Health.REMOVED
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
            OperationResult result = failover(null, "automatic");
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

    // ------------------------------------------------------------------ failover

    @Override
    public OperationResult failover(String candidate, String actor) {
        lock("failover");
        try {
            Topology topology = cluster.current();
            NodeStatus old = topology.primary() != null ? topology.primary()
                    : lastPrimary >= 0 ? topology.node(lastPrimary) : null;
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
                        steps.attempt("make " + old.name() + " read-only", () -> readOnly(old.config(), true));
                    }
                } else {
                    steps.skipped("fence old primary", "no primary known");
                }
                NodeStatus chosen = named != null ? named : mostAdvanced(cluster.current(), old, true, steps);
                if (chosen == null) {
                    throw new Steps.Failed("no replica is available for promotion");
                }
                List<String> standbys = standbyNamesAfter(chosen, old);
                steps.run("replication mode on " + chosen.name(), () -> applyMode(chosen.config(), standbys));
                held = true;
                steps.run("no primary for every pgrelay instance", guard::holdWrites);
                steps.run("promote " + chosen.name(), () -> promote(chosen.config()));
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
                fireHook("failover", old, chosen);
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
            busy.unlock();
        }
    }

    /** A replica named by the operator that can be promoted now. */
    private NodeStatus promotable(Topology topology, String name, NodeStatus primary) {
        NodeStatus node = requireNode(topology, name);
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
                try (Connection c = sql.connect(node.config(), SQL_TIMEOUT); Statement st = c.createStatement();
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

    private String promote(NodeConfig node) throws SQLException {
        try (Connection c = sql.connect(node, PROMOTE_TIMEOUT)) {
            String done = NodeSql.queryString(c, "SELECT pg_promote(true, 30)");
            if (!"t".equals(done) && !"true".equals(done)) {
                throw new SQLException("pg_promote did not finish within 30 s");
            }
            return "timeline " + NodeSql.queryString(c,
                    "SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int");
        }
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
            steps.attempt("re-point " + node.name() + " to " + primary.name(), () -> repoint(node, primary.config()));
        }
    }

    private String repoint(NodeStatus node, NodeConfig primary) throws SQLException {
        try (Connection c = sql.connect(node.config(), SQL_TIMEOUT)) {
            String slot = NodeSql.queryString(c, "SELECT current_setting('primary_slot_name')");
            if (slot != null && !slot.isEmpty()) {
                try (Connection p = sql.connect(primary, SQL_TIMEOUT)) {
                    NodeSql.queryString(p, "SELECT pg_create_physical_replication_slot(?, true)", slot);
                } catch (SQLException e) {
                    if (!NodeSql.DUPLICATE_OBJECT.equals(e.getSQLState())) {
                        throw e;
                    }
                }
            }
            NodeSql.setSystem(c, "primary_conninfo", sql.conninfo(primary, node.name()));
            return slot == null || slot.isEmpty() ? "no slot" : "slot " + slot;
        }
    }

    // ------------------------------------------------------------------ switchover

    @Override
    public OperationResult switchover(String candidate, String actor) {
        lock("switchover");
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
                steps.run("make " + old.name() + " read-only", () -> readOnly(old.config(), true));
                String lsn = steps.run("last WAL position of " + old.name(), () -> {
                    try (Connection c = sql.connect(old.config(), SQL_TIMEOUT)) {
                        return NodeSql.queryString(c, "SELECT pg_current_wal_lsn()::text");
                    }
                });
                steps.run("wait until " + chosen.name() + " replayed " + lsn,
                        () -> awaitReplay(chosen.config(), Lsn.parse(lsn), deadline));
                // The read-only old primary still writes WAL (autovacuum, checkpoints). A standby
                // that received any of it past the promotion point could never follow the new
                // timeline: cut the others off first, then let the candidate catch up with them.
                long received = Lsn.parse(steps.run("detach the other replicas from " + old.name(),
                        () -> Lsn.format(detachOthers(chosen, old, detached, deadline))));
                if (received != Lsn.INVALID) {
                    steps.run("wait until " + chosen.name() + " replayed what they received, " + Lsn.format(received),
                            () -> awaitReplay(chosen.config(), received, deadline));
                }
                List<String> standbys = standbyNamesAfter(chosen, old);
                steps.run("replication mode on " + chosen.name(), () -> applyMode(chosen.config(), standbys));
                steps.run("fence old primary " + old.name(), () -> {
                    setHealth(old.index(), Health.FENCED);
                    return "stays read-only; rejoining it as a replica needs a restart (see failover.hooks)";
                });
                held = true;
                steps.run("no primary for every pgrelay instance", guard::holdWrites);
                steps.run("promote " + chosen.name(), () -> promote(chosen.config()));
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
                fireHook("switchover", old, chosen);
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
                        steps.attempt("re-attach " + node.name() + " to " + old.name(), () -> repoint(node, old.config()));
                    }
                    if (readOnly) {
                        steps.attempt("make " + old.name() + " writable again", () -> readOnly(old.config(), false));
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
            busy.unlock();
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
            try (Connection c = sql.connect(node.config(), SQL_TIMEOUT)) {
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

    private String awaitReplay(NodeConfig node, long target, long deadline) throws Exception {
        try (Connection c = sql.connect(node, SQL_TIMEOUT)) {
            while (true) {
                long replayed = Lsn.parse(NodeSql.queryString(c, "SELECT pg_last_wal_replay_lsn()::text"));
                if (Lsn.compare(replayed, target) >= 0) {
                    return "replayed " + Lsn.format(replayed);
                }
                if (System.nanoTime() > deadline) {
                    throw new Steps.Failed(node.name() + " replayed only " + Lsn.format(replayed) + " of "
                            + Lsn.format(target) + " within failover.switchover-timeout");
                }
                Thread.sleep(5);
            }
        }
    }

    /** Sets or resets {@code default_transaction_read_only} on a node, reloading its configuration. */
    private String readOnly(NodeConfig node, boolean on) throws SQLException {
        try (Connection c = sql.connect(node, Duration.ofSeconds(3))) {
            if (on) {
                NodeSql.setSystem(c, "default_transaction_read_only", "on");
            } else {
                NodeSql.resetSystem(c, "default_transaction_read_only");
            }
            return "default_transaction_read_only = " + (on ? "on" : "default");
        }
    }

    // ------------------------------------------------------------------ replication mode

    @Override
    public OperationResult setReplicationMode(String requested, Integer acks, String actor) {
        lock("set replication mode");
        try {
            Topology topology = cluster.current();
            NodeStatus primary = topology.primary();
            if (primary == null) {
                throw new OperationException(Kind.UNAVAILABLE, "no primary: cannot set the replication mode");
            }
            List<NodeStatus> standbys = standbys(topology, primary, null);
            ReplicationMode wanted = ReplicationModes.parse(requested, acks, standbys.size());
            Steps steps = new Steps("replication-mode " + wanted.mode()
                    + (ReplicationModes.SEMI_SYNC.equals(wanted.mode()) ? " " + wanted.acks() : ""), actor);
            try {
                for (NodeStatus standby : standbys) {
                    if (standby.isUp()) {
                        steps.attempt("application_name of " + standby.name(),
                                () -> ensureApplicationName(standby, primary.config()));
                    }
                }
                List<String> names = standbys.stream().map(NodeStatus::name).toList();
                ReplicationMode previous = mode;
                mode = wanted;
                try {
                    steps.run("synchronous_standby_names on " + primary.name(), () -> applyMode(primary.config(), names));
                } catch (Steps.Failed e) {
                    mode = previous;
                    throw e;
                }
                steps.attempt("standbys streaming from " + primary.name(), () -> streaming(primary.config()));
                log.info("replication mode is now {} (acks {})", wanted.mode(), wanted.acks());
                return steps.success();
            } catch (Steps.Failed e) {
                return steps.failure(e.getMessage());
            }
        } finally {
            busy.unlock();
        }
    }

    @Override
    public ReplicationMode replicationMode() {
        return mode;
    }

    /** Takes the mode the cluster record names (another instance set it); changes nothing on the nodes. */
    public void adoptReplicationMode(ReplicationMode recorded) {
        if (!recorded.equals(mode)) {
            log.info("replication mode {} (acks {}) from the cluster record", recorded.mode(), recorded.acks());
            mode = recorded;
        }
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

    /** The standbys the mode applies to: every node but the primary, the excluded one, fenced and removed ones. */
    private static List<NodeStatus> standbys(Topology topology, NodeStatus primary, NodeStatus exclude) {
        List<NodeStatus> standbys = new ArrayList<>();
        for (NodeStatus node : topology.nodes()) {
            if (node.index() == primary.index() || exclude != null && node.index() == exclude.index()
                    || node.health() == Health.FENCED || node.health() == Health.REMOVED
                    || node.role() == Role.PRIMARY) {
                continue;
            }
            standbys.add(node);
        }
        return standbys;
    }

    private List<String> standbyNamesAfter(NodeStatus newPrimary, NodeStatus old) {
        return standbys(cluster.current(), newPrimary, old).stream().map(NodeStatus::name).toList();
    }

    /** Sets synchronous_standby_names for the mode in force; works on a standby too (it applies once promoted). */
    private String applyMode(NodeConfig node, List<String> names) throws SQLException {
        ReplicationMode current = mode;
        String value = ReplicationModes.standbyNames(current, names);
        try (Connection c = sql.connect(node, SQL_TIMEOUT)) {
            if (!ReplicationModes.ASYNC.equals(current.mode())) {
                try (Statement st = c.createStatement()) {
                    st.execute("ALTER SYSTEM SET synchronous_commit = 'on'");
                }
            }
            NodeSql.setSystem(c, "synchronous_standby_names", value);
        }
        return current.mode() + ": synchronous_standby_names = '" + value + "'";
    }

    /** Re-points a standby whose primary_conninfo lacks {@code application_name=<node name>}. */
    private String ensureApplicationName(NodeStatus standby, NodeConfig primary) throws SQLException {
        try (Connection c = sql.connect(standby.config(), SQL_TIMEOUT)) {
            String conninfo = NodeSql.queryString(c, "SELECT current_setting('primary_conninfo')");
            if (conninfo != null && (conninfo.contains("application_name=" + standby.name() + " ")
                    || conninfo.endsWith("application_name=" + standby.name())
                    || conninfo.contains("application_name=" + NodeSql.conninfoValue(standby.name())))) {
                return "already " + standby.name();
            }
        }
        return "re-pointed (" + repoint(standby, primary) + ")";
    }

    private String streaming(NodeConfig primary) throws SQLException {
        try (Connection c = sql.connect(primary, SQL_TIMEOUT)) {
            return NodeSql.queryString(c, "SELECT coalesce(string_agg(application_name || ' ' || sync_state, ', '"
                    + " ORDER BY application_name), 'none') FROM pg_stat_replication WHERE state = 'streaming'");
        }
    }

    // ------------------------------------------------------------------ nodes

    @Override
    public OperationResult addNode(NodeConfig node, String actor) {
        lock("add node");
        try {
            Topology topology = cluster.current();
            if (topology.node(node.name()) != null) {
                throw new OperationException(Kind.CONFLICT, "a node named '" + node.name() + "' exists already");
            }
            if (topology.nodes().size() >= ReplicaBalancer.MAX_NODES) {
                throw new OperationException(Kind.CONFLICT, "at most " + ReplicaBalancer.MAX_NODES
                        + " nodes (removed ones included)");
            }
            Steps steps = new Steps("add node " + node.name(), actor);
            int index = cluster.addNode(node);
            steps.run("add " + node.name() + " as node #" + index, () -> {
                monitor.addNode(index, node);
                NodeStatus added = cluster.current().node(index);
                return added.role().label() + ", " + added.health().label()
                        + (added.lastError() == null ? "" : " (" + added.lastError() + ")");
            });
            reapplyMode(steps);
            return steps.success();
        } finally {
            busy.unlock();
        }
    }

    @Override
    public OperationResult removeNode(String name, String actor) {
        lock("remove node");
        try {
            NodeStatus node = requireNode(cluster.current(), name);
            requireNotPrimary(node, "remove");
            Steps steps = new Steps("remove node " + name, actor);
            steps.run("remove " + name, () -> {
                setHealth(node.index(), Health.REMOVED);
                monitor.removeNode(node.index());
                return "no new work; sessions using it finish";
            });
            reapplyMode(steps);
            return steps.success();
        } finally {
            busy.unlock();
        }
    }

    @Override
    public OperationResult drain(String name, String actor) {
        return changeHealth("drain", name, actor, Health.DRAINED);
    }

    @Override
    public OperationResult enable(String name, String actor) {
        return changeHealth("enable", name, actor, null);
    }

    @Override
    public OperationResult fence(String name, String actor) {
        return changeHealth("fence", name, actor, Health.FENCED);
    }

    @Override
    public OperationResult unfence(String name, String actor) {
        return changeHealth("unfence", name, actor, null);
    }

    /** {@code target} null: back from DRAINED (enable) or FENCED (unfence) to what the next probe says. */
    private OperationResult changeHealth(String operation, String name, String actor, Health target) {
        lock(operation);
        try {
            NodeStatus node = requireNode(cluster.current(), name);
            Health from = target == null ? (operation.equals("enable") ? Health.DRAINED : Health.FENCED) : null;
            if (target == Health.DRAINED || target == Health.FENCED) {
                requireNotPrimary(node, operation);
            }
            if (target == Health.DRAINED && node.health() == Health.FENCED) {
                throw new OperationException(Kind.CONFLICT, name + " is fenced; unfence it first");
            }
            if (from == Health.DRAINED && node.health() == Health.FENCED) {
                throw new OperationException(Kind.CONFLICT, name + " is fenced; use unfence");
            }
            Steps steps = new Steps(operation + " " + name, actor);
            if (target != null) {
                steps.run(operation + " " + name, () -> {
                    setHealth(node.index(), target);
                    return node.health().label() + " -> " + target.label();
                });
            } else if (node.health() != from) {
                steps.skipped(operation + " " + name, "it is " + node.health().label());
            } else {
                steps.run(operation + " " + name, () -> {
                    setHealth(node.index(), node.consecutiveFailures() == 0 && node.observedAtMillis() != 0
                            ? Health.UP : Health.DOWN);
                    monitor.probe(node.index());
                    NodeStatus now = cluster.current().node(node.index());
                    return now.role().label() + ", " + now.health().label();
                });
            }
            if (target == Health.FENCED || from == Health.FENCED) {
                reapplyMode(steps);
            }
            return steps.success();
        } finally {
            busy.unlock();
        }
    }

    /** Keeps synchronous_standby_names in step with the replicas after the node list changed. */
    private void reapplyMode(Steps steps) {
        ReplicationMode current = mode;
        NodeStatus primary = cluster.current().primary();
        if (ReplicationModes.ASYNC.equals(current.mode()) || primary == null) {
            return;
        }
        List<String> names = standbyNamesAfter(primary, null);
        steps.attempt("replication mode on " + primary.name(), () -> applyMode(primary.config(), names));
    }

    private static NodeStatus requireNode(Topology topology, String name) {
        NodeStatus node = name == null ? null : topology.node(name);
        if (node == null) {
            throw new OperationException(Kind.NOT_FOUND, "no node named '" + name + "'");
        }
        return node;
    }

    private void requireNotPrimary(NodeStatus node, String operation) {
        NodeStatus primary = cluster.current().primary();
        if (primary != null && primary.index() == node.index()) {
            throw new OperationException(Kind.CONFLICT, "cannot " + operation + " " + node.name()
                    + ": it is the primary; switch over first");
        }
    }

    // ------------------------------------------------------------------ shared

    private void lock(String operation) {
        if (!busy.tryLock()) {
            throw new OperationException(Kind.CONFLICT, "another cluster operation is running; retry " + operation
                    + " when it has finished");
        }
    }

    /** Operator-set health is kept by the monitor until changed here. */
    private void setHealth(int index, Health health) {
        cluster.update(topology -> {
            NodeStatus node = topology.node(index);
            if (node.health() == health) {
                return topology;
            }
            log.info("node {} is now {} (was {})", node.name(), health.label(), node.health().label());
            return topology.with(node.withHealth(health));
        });
    }

    private void fireHook(String event, NodeStatus node, Topology topology) {
        NodeStatus primary = topology.primary();
        Map<String, String> values = new LinkedHashMap<>();
        values.put("node", node.name());
        values.put("host", node.host());
        values.put("port", String.valueOf(node.port()));
        putNode(values, "old", primary);
        putNode(values, "new", primary);
        hooks.fire(event, values);
    }

    private void fireHook(String event, NodeStatus old, NodeStatus promoted) {
        Map<String, String> values = new LinkedHashMap<>();
        values.put("node", promoted.name());
        values.put("host", promoted.host());
        values.put("port", String.valueOf(promoted.port()));
        putNode(values, "old", old);
        putNode(values, "new", promoted);
        hooks.fire(event, values);
    }

    private static void putNode(Map<String, String> values, String prefix, NodeStatus node) {
        values.put(prefix + "_primary", node == null ? "" : node.name());
        values.put(prefix + "_host", node == null ? "" : node.host());
        values.put(prefix + "_port", node == null ? "" : String.valueOf(node.port()));
    }

    @Override
    public void close() {
        background.shutdownNow();
        hooks.close();
    }
}
