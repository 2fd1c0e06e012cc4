package io.pgrelay.core.coordination;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * The leader's etcd side of a failover: whether a quorum of the live instances sees the primary
 * down, then fencing writes across instances before a promotion (a record naming no primary, and
 * every live instance's acknowledgement of its epoch or the loss of its lease), and naming a
 * primary again when the promotion does not happen or an abandoned one is rolled back.
 *
 * <p>The record changes run on the coordinator's thread, as every etcd write does; the caller
 * (failover, on its own thread, never an event loop) blocks for them.
 */
final class PromotionFence {
    private static final Logger log = LoggerFactory.getLogger(PromotionFence.class);
    private static final long ACK_POLL_MILLIS = 20;

    private final RecordSync records;
    private final HealthBoard health;
    private final Supplier<Membership> membership;
    private final Supplier<HealthReport> ownReport;
    private final String selfId;
    private final ScheduledExecutorService thread;
    private final Duration callTimeout;
    private final Duration ttl;
    private volatile String lastVerdict;

    PromotionFence(RecordSync records, HealthBoard health, Supplier<Membership> membership,
                   Supplier<HealthReport> ownReport, String selfId, ScheduledExecutorService thread,
                   Duration callTimeout, Duration ttl) {
        this.records = records;
        this.health = health;
        this.membership = membership;
        this.ownReport = ownReport;
        this.selfId = selfId;
        this.thread = thread;
        this.callTimeout = callTimeout;
        this.ttl = ttl;
    }

    /** The live members' reports, this instance's own as it is now (not as last published). */
    QuorumRule.Verdict primaryDown(String primary) {
        Map<String, HealthReport> reports = new HashMap<>(health.reports());
        reports.put(selfId, ownReport.get());
        List<String> live = membership.get().members().stream().map(ProxyMember::id).toList();
        QuorumRule.Verdict verdict = QuorumRule.primaryDown(primary, live, reports);
        String text = verdict.describe(primary);
        if (!text.equals(lastVerdict)) {
            lastVerdict = text;
            log.info("coordination: failover quorum: {}", text);
        }
        return verdict;
    }

    /** See {@link Coordinator#holdWritesForPromotion()}. */
    String holdWrites() throws Exception {
        long epoch = thread.submit(records::writeNoPrimary).get(callTimeout.toMillis() * 3, TimeUnit.MILLISECONDS);
        // An instance that cannot acknowledge (frozen, cut off from etcd) loses its lease within the
        // TTL and stopped writing at half of it: wait for that, and not longer.
        Duration patience = ttl.plusSeconds(1);
        long deadline = System.nanoTime() + patience.toNanos();
        while (true) {
            List<String> waiting = notAcknowledged(epoch);
            if (waiting.isEmpty()) {
                return "epoch " + epoch + " acknowledged by all " + membership.get().members().size()
                        + " live instance(s)";
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("instance(s) " + waiting + " neither acknowledged epoch " + epoch
                        + " nor lost their lease within " + patience.toMillis() + " ms");
            }
            Thread.sleep(ACK_POLL_MILLIS);
        }
    }

    /** The other live instances whose last report is older than {@code epoch}. */
    private List<String> notAcknowledged(long epoch) {
        List<String> waiting = new ArrayList<>();
        Map<String, HealthReport> reports = health.reports();
        for (ProxyMember member : membership.get().members()) {
            HealthReport report = reports.get(member.id());
            if (!member.id().equals(selfId) && (report == null || report.epoch() < epoch)) {
                waiting.add(member.id());
            }
        }
        return waiting;
    }

    /** See {@link Coordinator#releaseWrites()}: a failed attempt is logged, the record stays without a primary. */
    void release() {
        try {
            thread.submit(() -> {
                records.restorePrimary();
                return null;
            }).get(callTimeout.toMillis() * 2, TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            log.warn("coordination: cannot name the previous primary again ({})", EtcdErrors.describe(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** See {@link Coordinator#reinstatePrimary(String)}. */
    void reinstate(String primary) throws Exception {
        thread.submit(() -> {
            records.reinstate(primary);
            return null;
        }).get(callTimeout.toMillis() * 3, TimeUnit.MILLISECONDS);
    }
}
