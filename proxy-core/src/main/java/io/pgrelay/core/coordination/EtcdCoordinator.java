package io.pgrelay.core.coordination;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.options.LeaseOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.support.CloseableClient;
import io.grpc.stub.StreamObserver;
import io.netty.handler.ssl.SslContext;
import io.pgrelay.core.config.CoordinationConfig.EtcdConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Membership through etcd. At start the instance takes a lease of {@code ttl}, keeps it alive
 * (jetcd's keep-alive stream renews it about every third of the TTL) and puts
 * {@code <prefix>/members/<id>} with its {@link ProxyMember} JSON under that lease, so the key
 * vanishes when the instance dies or loses etcd for a TTL. When the lease is lost (keep-alive
 * ended, or our key was deleted), it takes a new lease and registers again. {@link #close()}
 * revokes the lease: the instance leaves at once.
 *
 * <p>Every blocking etcd call runs on this coordinator's single thread ({@code pgrelay-coordination});
 * jetcd's callbacks only hand work to it. Nothing here runs on, or waits from, a Netty event loop.
 */
final class EtcdCoordinator implements Coordinator {
    private static final Logger log = LoggerFactory.getLogger(EtcdCoordinator.class);
    private static final Duration FIRST_RETRY = Duration.ofMillis(250);

    private final EtcdConfig config;
    private final Duration callTimeout;
    private final SslContext tls;
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "pgrelay-coordination");
        t.setDaemon(true);
        return t;
    });
    private volatile ProxyMember self;
    private volatile MemberWatch watch;
    private volatile LeaderElection election;
    private volatile RecordKeeper keeper;
    private volatile RecordSync records;
    private volatile HealthBoard health;
    private volatile PromotionFence promotions;
    private final AtomicBoolean confirmPending = new AtomicBoolean();
    /** The lease id registered under now, 0 while none; written on the coordinator's thread only. */
    private volatile long heldLease;
    private volatile boolean closing;
    private volatile long lastRenewalNanos;
    // Only touched on the coordinator's thread:
    private Client client;
    private long leaseId;
    private long registeredRevision;
    private CloseableClient keepAlive;
    private int failures;
    private SlotClaim slots;
    /** The slot the current registration holds (kept across re-registrations when it can be). */
    private volatile int slot = IssuedProcessIds.NO_SLOT;

    EtcdCoordinator(EtcdConfig config) {
        this.config = config;
        // An etcd call that takes longer than the lease would outlive what it is for.
        this.callTimeout = config.ttl();
        // Read at start, so a bad certificate file stops pgrelay with its name, not later in a log.
        this.tls = config.tls() ? EtcdTls.context(config) : null;
    }

    @Override
    public void start(ProxyMember self) {
        if (this.self != null) {
            throw new IllegalStateException("coordinator already started as " + this.self.id());
        }
        this.self = self;
        thread.execute(() -> {
            try {
                client = client(config, tls);
            } catch (RuntimeException e) {
                log.error("coordination: cannot create the etcd client for {}; this instance stays unregistered",
                        config.endpoints(), e);
                return;
            }
            slots = new SlotClaim(client.getKVClient(), config.slotsPrefix(), callTimeout);
            watch = new MemberWatch(client, config.membersPrefix(), key(), thread, callTimeout, this::selfDeleted);
            election = new LeaderElection(client, config.leaderKey(), self.id(), thread, callTimeout, () -> heldLease);
            register();
            watch.start();
            if (keeper != null) {
                records = new RecordSync(keeper, client, config, self.id(), thread, callTimeout,
                        () -> leadership().self());
                records.start();
                health = new HealthBoard(client, config.healthPrefix(), self.id(), thread, callTimeout,
                        () -> heldLease, this::myReport);
                keeper.cluster().addListener(topology -> health.requestPublish());
                health.start();
                promotions = new PromotionFence(records, health, this::membership, this::myReport, self.id(), thread,
                        callTimeout, config.ttl());
                requestConfirm();
            }
        });
    }

    private static Client client(EtcdConfig config, SslContext tls) {
        ClientBuilder builder = Client.builder().endpoints(config.endpoints().toArray(String[]::new))
                .connectTimeout(Duration.ofSeconds(2))
                .keepaliveTime(Duration.ofSeconds(10))
                .keepaliveTimeout(Duration.ofSeconds(3));
        if (config.user() != null) {
            builder.user(MemberWatch.bytes(config.user())).password(MemberWatch.bytes(config.password()));
        }
        if (tls != null) {
            builder.sslContext(tls);
        }
        return builder.build();
    }

    private String key() {
        return config.membersPrefix() + self.id();
    }

    @Override
    public void bind(RecordKeeper keeper) {
        if (self != null) {
            throw new IllegalStateException("bind before start");
        }
        this.keeper = keeper;
        // No write before this instance holds a lease and has read the record.
        keeper.cluster().requireWriteLease();
    }

    /**
     * The lease was renewed (any thread). Writes go on for half the TTL from now, as long as they
     * never stopped; once they did (a freeze, etcd out of reach), only after a fresh read of the
     * record, so an instance never writes by a record older than its lease.
     */
    private void renewed() {
        long now = System.nanoTime();
        long previous = lastRenewalNanos;
        lastRenewalNanos = now;
        RecordKeeper bound = keeper;
        if (bound == null) {
            return;
        }
        if (bound.cluster().writable()) {
            bound.cluster().allowWritesUntil(now + config.ttl().toNanos() / 2);
        } else {
            if (previous != 0 && now - previous > config.ttl().toNanos() / 2) {
                log.warn("coordination: lease renewed {} ms after the previous renewal (more than ttl/2):"
                        + " writes refused until the cluster record is read again", (now - previous) / 1_000_000);
            }
            requestConfirm();
        }
    }

    private void requestConfirm() {
        if (confirmPending.compareAndSet(false, true)) {
            thread.execute(this::confirm);
        }
    }

    /** On the coordinator's thread: read the record afresh, then let writes go on for the rest of the lease's half. */
    private void confirm() {
        confirmPending.set(false);
        RecordSync sync = records;
        if (closing || sync == null || !renewedWithin(config.ttl().dividedBy(2))) {
            return;
        }
        long renewal = lastRenewalNanos;
        try {
            if (sync.refresh()) {
                keeper.cluster().allowWritesUntil(renewal + config.ttl().toNanos() / 2);
                ClusterRecord record = sync.current();
                log.info("coordination: writes allowed (lease held, cluster record epoch {} read)",
                        record == null ? "(none yet)" : record.epoch());
            } else {
                thread.schedule(this::requestConfirm, 250, TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private HealthReport myReport() {
        ClusterRecord record = clusterRecord();
        return new HealthReport(keeper.seenDown(), record == null ? 0 : record.epoch());
    }

    @Override
    public QuorumRule.Verdict primaryDown(String primary) {
        PromotionFence fence = promotions;
        return fence == null ? new QuorumRule.Verdict(false, 0, 0) : fence.primaryDown(primary);
    }

    @Override
    public String holdWritesForPromotion() throws Exception {
        return coordinating().holdWrites();
    }

    @Override
    public void releaseWrites() {
        PromotionFence fence = promotions;
        if (fence != null) {
            fence.release();
        }
    }

    @Override
    public void reinstatePrimary(String primary) throws Exception {
        coordinating().reinstate(primary);
    }

    private PromotionFence coordinating() {
        PromotionFence fence = promotions;
        if (fence == null) {
            throw new IllegalStateException("not coordinating yet (no cluster record)");
        }
        return fence;
    }

    @Override
    public ClusterRecord clusterRecord() {
        RecordSync sync = records;
        return sync == null ? null : sync.current();
    }

    @Override
    public Membership membership() {
        ProxyMember member = self;
        MemberWatch members = watch;
        return new Membership(Membership.Mode.ETCD, member == null ? null : member.id(),
                members == null ? List.of() : members.members());
    }

    /**
     * Leader only while the leader key names us and our lease was renewed within half the TTL: etcd
     * cannot have let the lease (and the key with it) expire, so no other instance can hold it.
     */
    @Override
    public Leadership leadership() {
        ProxyMember member = self;
        LeaderElection leader = election;
        String id = leader == null ? null : leader.leaderId();
        boolean self = member != null && member.id().equals(id) && renewedWithin(config.ttl().dividedBy(2));
        return new Leadership(true, self, id, id == null ? null : find(id));
    }

    /** Whether this instance holds a lease renewed no longer than {@code age} ago. */
    boolean renewedWithin(Duration age) {
        return heldLease != 0 && System.nanoTime() - lastRenewalNanos < age.toNanos();
    }

    private ProxyMember find(String id) {
        MemberWatch members = watch;
        if (members != null) {
            for (ProxyMember member : members.members()) {
                if (member.id().equals(id)) {
                    return member;
                }
            }
        }
        return null;
    }

    /** The first registration; later ones replace a lease, see {@link #reRegister}. */
    private void register() {
        reRegister(0);
    }

    /**
     * Takes a new lease, keeps it alive and puts our key under it; then revokes {@code previous}. In
     * that order the key is never missing: the put moves it to the new lease, so revoking the old one
     * no longer deletes it. On failure, tries again later.
     */
    private void reRegister(long previous) {
        if (closing) {
            return;
        }
        long lease = 0;
        try {
            lease = client.getLeaseClient().grant(config.ttl().toSeconds())
                    .get(callTimeout.toMillis(), TimeUnit.MILLISECONDS).getID();
            CloseableClient renewal = client.getLeaseClient().keepAlive(lease, keepAliveObserver(lease));
            long revision;
            int claimed;
            try {
                claimed = claimSlot(lease);
                revision = client.getKVClient().put(MemberWatch.bytes(key()),
                                ByteSequence.from(MemberCodec.encode(self.withSlot(claimed))),
                                PutOption.builder().withLeaseId(lease).build())
                        .get(callTimeout.toMillis(), TimeUnit.MILLISECONDS).getHeader().getRevision();
            } catch (ExecutionException | TimeoutException e) {
                renewal.close();
                throw e;
            }
            stopRenewal();
            keepAlive = renewal;
            leaseId = lease;
            registeredRevision = revision;
            slot = claimed;
            heldLease = lease;
            renewed();
            log.info("coordination: registered as {} under {} (lease {} of {}s{})", self.id(), config.prefix(),
                    Long.toHexString(lease), config.ttl().toSeconds(),
                    failures > 0 ? ", after " + failures + " failed attempt(s)" : "");
            failures = 0;
            revokeQuietly(previous);
            election.contend();
        } catch (ExecutionException | TimeoutException e) {
            revokeQuietly(lease);
            failures++;
            if (failures == 1) {
                log.warn("coordination: cannot register in etcd {} ({}); retrying every {} ms at most",
                        config.endpoints(), EtcdErrors.describe(e), retryDelay(Integer.MAX_VALUE));
            } else {
                log.debug("coordination: registration attempt {} failed ({})", failures, EtcdErrors.describe(e));
            }
            thread.schedule(() -> reRegister(previous), retryDelay(failures), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Claims the cancel-key slot under {@code lease}, the one held before first. */
    private int claimSlot(long lease) throws ExecutionException, TimeoutException, InterruptedException {
        int claimed = slots.claim(self.id(), lease, slot);
        if (claimed == IssuedProcessIds.NO_SLOT) {
            log.warn("coordination: all {} cancel-key slots are held; cancel requests for {}'s sessions that "
                    + "reach another instance are dropped", IssuedProcessIds.SLOTS, self.id());
        } else if (slot != IssuedProcessIds.NO_SLOT && claimed != slot) {
            log.warn("coordination: {} holds slot {} now, not {}: cancel requests for its older sessions that reach "
                    + "another instance are dropped", self.id(), claimed, slot);
        }
        return claimed;
    }

    @Override
    public int slot() {
        return slot;
    }

    /** From 250 ms doubling up to a third of the TTL, so a returning etcd sees us well within one TTL. */
    private long retryDelay(int failures) {
        long max = Math.max(FIRST_RETRY.toMillis(), config.ttl().toMillis() / 3);
        long delay = FIRST_RETRY.toMillis() << Math.min(failures - 1, 10);
        return Math.min(delay, max);
    }

    private StreamObserver<LeaseKeepAliveResponse> keepAliveObserver(long lease) {
        return new StreamObserver<>() {
            @Override
            public void onNext(LeaseKeepAliveResponse response) {
                renewed();
            }

            @Override
            public void onError(Throwable error) {
                thread.execute(() -> keepAliveEnded(lease, EtcdErrors.describe(error)));
            }

            @Override
            public void onCompleted() {
                thread.execute(() -> keepAliveEnded(lease, "no renewal within the TTL"));
            }
        };
    }

    /**
     * The keep-alive stream of {@code lease} ended: an etcd member went away under it, or the lease
     * expired. A lease that still lives is renewed on a new stream (no change anyone sees); a lost
     * one is replaced.
     */
    private void keepAliveEnded(long lease, String why) {
        if (closing || lease != leaseId) {
            return; // an older lease, already replaced
        }
        stopRenewal();
        long remaining;
        try {
            remaining = client.getLeaseClient().timeToLive(lease, LeaseOption.DEFAULT)
                    .get(callTimeout.toMillis(), TimeUnit.MILLISECONDS).getTTL();
        } catch (ExecutionException | TimeoutException e) {
            remaining = -1;
            why = why + "; then " + EtcdErrors.describe(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        if (remaining > 0) {
            keepAlive = client.getLeaseClient().keepAlive(lease, keepAliveObserver(lease));
            log.info("coordination: keep-alive of lease {} restarted ({}); {}s left on it", Long.toHexString(lease),
                    why, remaining);
            return;
        }
        log.warn("coordination: lease {} of {} lost ({}), last renewed {} ms ago; registering again",
                Long.toHexString(lease), self.id(), why, (System.nanoTime() - lastRenewalNanos) / 1_000_000);
        heldLease = 0;
        reRegister(lease);
    }

    /** Our key was deleted (its lease expired, or by hand): register again unless that deletion is old news. */
    private void selfDeleted(long revision) {
        thread.execute(() -> {
            if (closing || revision < registeredRevision) {
                return;
            }
            log.warn("coordination: the key of {} was deleted at revision {}; registering again", self.id(), revision);
            reRegister(leaseId);
        });
    }

    private void stopRenewal() {
        if (keepAlive != null) {
            keepAlive.close();
            keepAlive = null;
        }
    }

    /** Revokes a lease we no longer use (best effort, not awaited); 0 = none. */
    private void revokeQuietly(long lease) {
        if (lease != 0) {
            client.getLeaseClient().revoke(lease).exceptionally(error -> null);
        }
    }

    /** Revokes the lease (the key goes with it) and closes the client; waits at most the TTL. */
    @Override
    public void close() {
        closing = true;
        Future<?> leaving = thread.submit(() -> {
            if (watch != null) {
                watch.close();
            }
            if (election != null) {
                election.close();
            }
            if (records != null) {
                records.close();
            }
            if (health != null) {
                health.close();
            }
            heldLease = 0;
            stopRenewal();
            if (leaseId != 0) {
                try {
                    client.getLeaseClient().revoke(leaseId).get(callTimeout.toMillis(), TimeUnit.MILLISECONDS);
                    log.info("coordination: {} left (lease {} revoked)", self.id(), Long.toHexString(leaseId));
                } catch (ExecutionException | TimeoutException e) {
                    log.warn("coordination: cannot revoke lease {} ({}); {} disappears when it expires",
                            Long.toHexString(leaseId), EtcdErrors.describe(e), self.id());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                leaseId = 0;
            }
            if (client != null) {
                client.close();
            }
        });
        try {
            leaving.get(callTimeout.toMillis() + 2000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            log.warn("coordination: leaving failed", e.getCause());
        } catch (TimeoutException e) {
            log.warn("coordination: leaving etcd took longer than {} ms; giving up", callTimeout.toMillis() + 2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            thread.shutdownNow();
        }
    }
}
