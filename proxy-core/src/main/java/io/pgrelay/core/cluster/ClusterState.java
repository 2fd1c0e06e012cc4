package io.pgrelay.core.cluster;

import io.pgrelay.core.config.ProxyConfig.NodeConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * Holds the current {@link Topology}. Readers call {@link #current()} (a volatile read);
 * writers replace the snapshot with compare-and-set, so concurrent updates never lose one
 * another. Listeners run on the writer's thread and must not block.
 */
public final class ClusterState {
    private static final Logger log = LoggerFactory.getLogger(ClusterState.class);

    private final AtomicReference<Topology> current;
    private final List<Consumer<Topology>> listeners = new CopyOnWriteArrayList<>();
    /** With coordination, writes need a fresh lease: {@link #requireWriteLease}. */
    private volatile boolean leased;
    private volatile long writableUntilNanos;

    public ClusterState(List<NodeConfig> nodes) {
        List<NodeStatus> initial = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            initial.add(NodeStatus.initial(i, nodes.get(i)));
        }
        current = new AtomicReference<>(new Topology(initial, 0));
    }

    public Topology current() {
        return current.get();
    }

    /**
     * The snapshot sessions route by: {@link #current()}, but with no primary while this instance
     * may not write ({@link #writable()}). Checked against the clock at each call, so an instance
     * that wakes from a freeze sends no write before its coordinator has even run.
     */
    public Topology routable() {
        Topology topology = current.get();
        return writable() ? topology : topology.withoutWrites();
    }

    /** From now on writes need {@link #allowWritesUntil} (coordination); until then, none. */
    public void requireWriteLease() {
        writableUntilNanos = System.nanoTime();
        leased = true;
    }

    /** Writes may go on until {@code deadline} ({@link System#nanoTime()}): a renewed lease extends it. */
    public void allowWritesUntil(long deadline) {
        writableUntilNanos = deadline;
    }

    /** Whether this instance may send writes now: always standalone; with coordination, while its lease is fresh. */
    public boolean writable() {
        return !leased || System.nanoTime() - writableUntilNanos < 0;
    }

    /** Applies {@code change} atomically; notifies listeners when the snapshot changed. */
    public Topology update(UnaryOperator<Topology> change) {
        Topology before;
        Topology after;
        do {
            before = current.get();
            after = change.apply(before);
            if (after == before) {
                return before;
            }
        } while (!current.compareAndSet(before, after));
        for (Consumer<Topology> listener : listeners) {
            listener.accept(after);
        }
        return after;
    }

    /**
     * Takes a replica out of the read rotation for every session for {@code banMillis} from now
     * ({@link Ban}), or renews the ban it has; logs a new ban once, whoever found the fault (the
     * monitor's probe, a session's connect, a reply deadline).
     */
    public void ban(int index, Ban.Cause cause, String detail, long banMillis) {
        long now = System.currentTimeMillis();
        if (ban(index, new Ban(cause, detail, now, now + banMillis))) {
            NodeConfig node = current().node(index).config();
            log.warn("replica {} ({}:{}) takes no reads for {} s ({}): {}", node.name(), node.host(), node.port(),
                    banMillis / 1000, cause.label(), detail);
        }
    }

    /**
     * Takes a replica out of the read rotation for every session ({@link Ban}); renews a ban it
     * already has. The primary is never banned: whether it is down is the monitor's judgement
     * over consecutive probes, since failover follows from it. Returns whether the node was not
     * banned before.
     */
    boolean ban(int index, Ban ban) {
        boolean[] fresh = new boolean[1];
        update(topology -> {
            NodeStatus node = topology.node(index);
            if (node.role() != Role.REPLICA || node.health().isSticky()) {
                return topology;
            }
            fresh[0] = node.ban() == null;
            return topology.with(node.withBan(fresh[0] ? ban : node.ban().renewedBy(ban)));
        });
        return fresh[0];
    }

    /** Appends a node (status: not probed yet) and returns its index. */
    public synchronized int addNode(NodeConfig config) {
        int[] index = new int[1];
        update(topology -> {
            index[0] = topology.nodes().size();
            return topology.withAdded(NodeStatus.initial(index[0], config));
        });
        return index[0];
    }

    public void addListener(Consumer<Topology> listener) {
        listeners.add(listener);
    }
}
