package io.pgrelay.core.coordination;

import io.etcd.jetcd.Client;
import io.pgrelay.core.config.CoordinationConfig.EtcdConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

/**
 * Runs the {@link RecordKeeper} against etcd: every record seen is applied; on the leader, each
 * topology change (and a periodic check, for mode changes) compares the record with what it should
 * say and writes the difference under the next epoch. All etcd calls on the coordinator's thread;
 * the topology listener only schedules a check (coalesced), so the monitor never waits on etcd.
 */
final class RecordSync {
    private static final Logger log = LoggerFactory.getLogger(RecordSync.class);
    private static final Duration PERIODIC_CHECK = Duration.ofSeconds(1);

    private final RecordKeeper keeper;
    private final ClusterRecordStore store;
    private final ScheduledExecutorService thread;
    private final BooleanSupplier leading;
    private final AtomicBoolean checkPending = new AtomicBoolean();
    /** The primary the record named before {@link #writeNoPrimary}; coordinator's thread only. */
    private String heldFrom;

    RecordSync(RecordKeeper keeper, Client client, EtcdConfig config, String selfId, ScheduledExecutorService thread,
               Duration callTimeout, BooleanSupplier leading) {
        this.keeper = keeper;
        this.thread = thread;
        this.leading = leading;
        this.store = new ClusterRecordStore(client, config.clusterKey(), config.leaderKey(), selfId, thread,
                callTimeout, this::seen);
    }

    /** On the coordinator's thread. */
    void start() {
        store.start();
        keeper.cluster().addListener(topology -> requestCheck());
        thread.scheduleWithFixedDelay(this::check, PERIODIC_CHECK.toMillis(), PERIODIC_CHECK.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    /** The record as last seen; null before the first read (or when there is none yet). */
    ClusterRecord current() {
        ClusterRecordStore.Versioned versioned = store.current();
        return versioned == null ? null : versioned.record();
    }

    private void seen(ClusterRecord record) {
        keeper.apply(record);
    }

    /** See {@link ClusterRecordStore#refresh()}. */
    boolean refresh() throws InterruptedException {
        return store.refresh();
    }

    /**
     * On the coordinator's thread, on the leader: writes the record with no primary under the next
     * epoch and returns that epoch; remembers the primary it named, for {@link #restorePrimary}.
     */
    long writeNoPrimary() throws InterruptedException {
        for (int attempt = 0; attempt < 3; attempt++) {
            ClusterRecordStore.Versioned now = store.current();
            if (now == null || now.record() == null) {
                throw new IllegalStateException("no cluster record to change yet");
            }
            ClusterRecord next = keeper.wanted(now.record()).nextWithPrimary(null);
            if (store.compareAndPut(next, now.modRevision())) {
                heldFrom = now.record().primary();
                log.warn("coordination: cluster record epoch {}: no primary (was {}) while a promotion runs",
                        next.epoch(), heldFrom);
                return next.epoch();
            }
            store.refresh();
        }
        throw new IllegalStateException("cannot write the cluster record (it changes under us, or we no longer lead)");
    }

    /** On the coordinator's thread: the promotion did not happen; name the previous primary again. */
    void restorePrimary() throws InterruptedException {
        ClusterRecordStore.Versioned now = store.current();
        if (now == null || now.record() == null || now.record().primary() != null || heldFrom == null) {
            return;
        }
        store.compareAndPut(now.record().nextWithPrimary(heldFrom), now.modRevision());
    }

    /**
     * On the coordinator's thread, on the leader: a record naming no primary names {@code primary}
     * again, unfenced. Refuses when the record names another primary meanwhile.
     */
    void reinstate(String primary) throws InterruptedException {
        for (int attempt = 0; attempt < 3; attempt++) {
            ClusterRecordStore.Versioned now = store.current();
            ClusterRecord r = now == null ? null : now.record();
            if (r == null) {
                throw new IllegalStateException("no cluster record to change yet");
            }
            if (r.primary() != null) {
                if (r.primary().equals(primary)) {
                    return;
                }
                throw new IllegalStateException("the cluster record names " + r.primary() + " meanwhile");
            }
            Set<String> fenced = new TreeSet<>(r.fenced());
            fenced.remove(primary);
            ClusterRecord next = new ClusterRecord(r.epoch() + 1, primary, r.timeline(), fenced, r.drained(),
                    r.removed(), r.mode(), r.acks(), r.nodes());
            if (store.compareAndPut(next, now.modRevision())) {
                log.warn("coordination: cluster record epoch {}: {} is primary again (a failover left unfinished "
                        + "is rolled back)", next.epoch(), primary);
                return;
            }
            store.refresh();
        }
        throw new IllegalStateException("cannot write the cluster record (it changes under us, or we no longer lead)");
    }

    void requestCheck() {
        if (checkPending.compareAndSet(false, true)) {
            thread.execute(() -> {
                checkPending.set(false);
                check();
            });
        }
    }

    /** On the leader: write what the record should say if it says something else. */
    private void check() {
        if (!leading.getAsBoolean()) {
            return;
        }
        ClusterRecordStore.Versioned now = store.current();
        if (now == null) {
            return; // not read yet: never write blind
        }
        ClusterRecord wanted = keeper.wanted(now.record());
        if (now.record() != null && wanted.sameStateAs(now.record())) {
            return;
        }
        ClusterRecord next = now.record() == null ? wanted.withEpoch(1) : wanted.withEpoch(now.record().epoch() + 1);
        try {
            if (store.compareAndPut(next, now.modRevision())) {
                log.info("coordination: wrote the cluster record epoch {} (primary {}, fenced {}, drained {})",
                        next.epoch(), next.primary(), next.fenced(), next.drained());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    void close() {
        store.close();
        keeper.close();
    }
}
