package io.pgrelay.core.coordination;

import io.pgrelay.core.config.CoordinationConfig;

/**
 * How this pgrelay instance takes part in a cluster of instances. The core and the operator tools
 * see coordination only through this interface; without the {@code coordination} key it is
 * {@link StandaloneCoordinator}, which changes nothing in how pgrelay behaves.
 *
 * <p>Every call returns at once and never blocks a caller's thread on etcd: the etcd implementation
 * talks to etcd on a thread of its own, and {@link #membership()} reads what it last saw.
 */
public interface Coordinator extends AutoCloseable {

    /** The implementation {@code config} asks for; nothing is contacted before {@link #start}. */
    static Coordinator of(CoordinationConfig config) {
        return config.enabled() ? new EtcdCoordinator(config.etcd()) : new StandaloneCoordinator();
    }

    /**
     * Before {@link #start}: routes {@code keeper}'s cluster state by the shared cluster record (and,
     * on the leader, writes that record). Standalone: nothing to share, ignored.
     */
    void bind(RecordKeeper keeper);

    /** Joins as {@code self} (registration goes on in the background and is retried until it succeeds). */
    void start(ProxyMember self);

    /** The live instances as last seen; cheap, safe on an event loop. */
    Membership membership();

    /**
     * The slot this instance's cancel keys name ({@link IssuedProcessIds}),
     * held while it is registered; {@code NO_SLOT} alone or before registration. Cheap, any thread.
     */
    default int slot() {
        return IssuedProcessIds.NO_SLOT;
    }

    /**
     * Whether enough instances see {@code primary} down to replace it: a majority of the live ones
     * with coordination ({@link QuorumRule}); standalone, this instance's own view decides.
     */
    QuorumRule.Verdict primaryDown(String primary);

    /**
     * Before a promotion, on the leader (blocks; never on an event loop): publishes a record with
     * no primary and waits until every live instance acknowledged its epoch or left (its lease
     * expired). Returns what it did; throws when an instance neither acknowledged nor left in time.
     */
    String holdWritesForPromotion() throws Exception;

    /** The promotion did not happen: the record names the previous primary again. */
    void releaseWrites();

    /**
     * On the leader (blocks): a failover another leader left unfinished is rolled back; the record,
     * which names no primary, names {@code primary} again and no longer fences it.
     */
    void reinstatePrimary(String primary) throws Exception;

    /** The shared cluster record as last seen; null standalone or before it was read. */
    ClusterRecord clusterRecord();

    /** Who leads now as last seen; cheap, safe on an event loop. Standalone: this instance, always. */
    Leadership leadership();

    /** Leaves: the instance's registration disappears at once (not only when its lease expires). */
    @Override
    void close();
}
