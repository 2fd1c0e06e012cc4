package io.pgrelay.core.cluster;

import io.pgrelay.core.config.ProxyConfig.NodeConfig;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class ClusterStateTest {
    private static final List<NodeConfig> NODES = List.of(
            new NodeConfig("pg1", "127.0.0.1", 5432, null),
            new NodeConfig("pg2", "127.0.0.1", 5433, null),
            new NodeConfig("pg3", "127.0.0.1", 5434, 2));

    private static NodeStatus node(Topology topology, int index, Role role, Health health, int timeline) {
        NodeStatus old = topology.node(index);
        return new NodeStatus(index, old.config(), role, health, timeline, 0, 0, 0, -1, -1, 0, 0, null, null);
    }

    private static NodeStatus withFailures(NodeStatus node, int failures) {
        return new NodeStatus(node.index(), node.config(), node.role(), node.health(), node.timeline(),
                node.currentLsn(), node.receiveLsn(), node.replayLsn(), node.lagBytes(), node.lagMillis(), failures,
                node.observedAtMillis(), node.lastError(), node.ban());
    }

    @Test
    void startsWithEveryNodeUnknownAndNoPrimary() {
        Topology topology = new ClusterState(NODES).current();

        assertThat(topology.version()).isZero();
        assertThat(topology.nodes()).extracting(NodeStatus::name).containsExactly("pg1", "pg2", "pg3");
        assertThat(topology.nodes()).extracting(NodeStatus::index).containsExactly(0, 1, 2);
        assertThat(topology.nodes()).allSatisfy(node -> {
            assertThat(node.role()).isEqualTo(Role.UNKNOWN);
            assertThat(node.isUp()).isFalse();
        });
        assertThat(topology.primary()).isNull();
        assertThat(topology.replicas()).isEmpty();
        assertThat(topology.node("pg3").config().weight()).isEqualTo(2);
        assertThat(topology.node("pg9")).isNull();
    }

    @Test
    void updateSwapsTheSnapshotAndNotifiesListeners() {
        ClusterState state = new ClusterState(NODES);
        Topology before = state.current();
        List<Topology> seen = new ArrayList<>();
        state.addListener(seen::add);

        Topology after = state.update(t -> t.with(node(t, 0, Role.PRIMARY, Health.UP, 1)));

        assertThat(after).isNotSameAs(before).isSameAs(state.current());
        assertThat(after.version()).isEqualTo(1);
        assertThat(after.primary().name()).isEqualTo("pg1");
        assertThat(before.primary()).as("snapshots are immutable").isNull();
        assertThat(seen).containsExactly(after);
    }

    @Test
    void anUnchangedSnapshotNotifiesNobody() {
        ClusterState state = new ClusterState(NODES);
        Topology before = state.current();
        AtomicInteger calls = new AtomicInteger();
        state.addListener(t -> calls.incrementAndGet());

        Topology result = state.update(t -> t);

        assertThat(result).isSameAs(before).isSameAs(state.current());
        assertThat(calls).hasValue(0);
    }

    @Test
    void everyListenerSeesEveryChange() {
        ClusterState state = new ClusterState(NODES);
        List<Long> first = new ArrayList<>();
        List<Long> second = new ArrayList<>();
        state.addListener(t -> first.add(t.version()));
        state.addListener(t -> second.add(t.version()));

        state.update(t -> t.with(node(t, 0, Role.PRIMARY, Health.UP, 1)));
        state.update(t -> t);
        state.update(t -> t.with(node(t, 1, Role.REPLICA, Health.UP, 1)));

        assertThat(first).containsExactly(1L, 2L);
        assertThat(second).containsExactly(1L, 2L);
    }

    @Test
    void concurrentUpdatesAreNeverLost() throws Exception {
        ClusterState state = new ClusterState(NODES);
        AtomicInteger notifications = new AtomicInteger();
        state.addListener(t -> notifications.incrementAndGet());
        int threads = 8;
        int updatesPerThread = 500;
        ExecutorService executor = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> futures = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                int index = i % NODES.size();
                futures.add(executor.submit(() -> {
                    start.await();
                    for (int n = 0; n < updatesPerThread; n++) {
                        state.update(t -> t.with(withFailures(t.node(index), t.node(index).consecutiveFailures() + 1)));
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> future : futures) {
                future.get(30, TimeUnit.SECONDS);
            }
        } finally {
            executor.shutdownNow();
        }

        Topology result = state.current();
        int total = threads * updatesPerThread;
        assertThat(result.nodes()).extracting(NodeStatus::consecutiveFailures).containsExactly(
                3 * updatesPerThread, 3 * updatesPerThread, 2 * updatesPerThread);
        assertThat(result.version()).isEqualTo(total);
        assertThat(notifications).hasValue(total);
    }

    @Test
    void primaryIsTheUpPrimaryWithTheHighestTimeline() {
        Topology topology = new ClusterState(NODES).current();
        topology = topology.with(node(topology, 0, Role.PRIMARY, Health.UP, 1))
                .with(node(topology, 1, Role.PRIMARY, Health.UP, 2))
                .with(node(topology, 2, Role.REPLICA, Health.UP, 2));

        assertThat(topology.primary().name()).isEqualTo("pg2");
        assertThat(topology.replicas()).extracting(NodeStatus::name).containsExactly("pg3");
    }

    @Test
    void primaryIgnoresNodesThatAreNotUp() {
        Topology topology = new ClusterState(NODES).current();
        topology = topology.with(node(topology, 0, Role.PRIMARY, Health.UP, 1))
                .with(node(topology, 1, Role.PRIMARY, Health.DOWN, 3))
                .with(node(topology, 2, Role.PRIMARY, Health.FENCED, 4));

        assertThat(topology.primary().name()).isEqualTo("pg1");
    }

    @Test
    void noPrimaryWithoutAnUpPrimary() {
        Topology topology = new ClusterState(NODES).current();
        topology = topology.with(node(topology, 0, Role.PRIMARY, Health.DOWN, 1))
                .with(node(topology, 1, Role.REPLICA, Health.UP, 1));

        assertThat(topology.primary()).isNull();
    }

    @Test
    void withReplacesOneNodeAndBumpsTheVersion() {
        Topology topology = new ClusterState(NODES).current();
        NodeStatus replica = node(topology, 1, Role.REPLICA, Health.UP, 1).withLag(1024, 15);

        Topology next = topology.with(replica);

        assertThat(next.version()).isEqualTo(topology.version() + 1);
        assertThat(next.node(1)).isEqualTo(replica);
        assertThat(next.node(0)).isSameAs(topology.node(0));
        assertThat(next.node(2)).isSameAs(topology.node(2));
        assertThat(next.toString()).isEqualTo("Topology{v1, pg1=unknown/down, pg2=replica/up, pg3=unknown/down}");
    }

    @Test
    void splitBrainOnEqualTimelinesHasNoPrimaryAndTheHigherTimelineWinsOtherwise() {
        ClusterState state = new ClusterState(NODES);
        Topology equal = state.update(t -> t.with(node(t, 0, Role.PRIMARY, Health.UP, 1))
                .with(node(t, 2, Role.PRIMARY, Health.UP, 1)));
        assertThat(equal.primary()).isNull();
        assertThat(equal.splitBrain()).isTrue();
        assertThat(equal.claimedPrimaries()).extracting(NodeStatus::name).containsExactly("pg1", "pg3");

        Topology higher = state.update(t -> t.with(node(t, 2, Role.PRIMARY, Health.UP, 2)));
        assertThat(higher.splitBrain()).isFalse();
        assertThat(higher.primary().name()).isEqualTo("pg3");

        // a fenced stale primary is not a claimant at all
        Topology fenced = state.update(t -> t.with(t.node(2).withHealth(Health.FENCED))
                .with(node(t, 0, Role.PRIMARY, Health.UP, 1)));
        assertThat(fenced.primary().name()).isEqualTo("pg1");
        assertThat(fenced.claimedPrimaries()).hasSize(1);
    }

    @Test
    void addedNodesTakeTheNextIndexAndRemovedOnesAreHidden() {
        ClusterState state = new ClusterState(NODES);
        int index = state.addNode(new NodeConfig("pg4", "127.0.0.1", 5435, null));
        assertThat(index).isEqualTo(3);
        assertThat(state.current().node("pg4").index()).isEqualTo(3);
        state.update(t -> t.with(t.node(1).withHealth(Health.REMOVED)));
        assertThat(state.current().node("pg2")).isNull();
        assertThat(state.current().nodes()).hasSize(4);
        assertThat(state.current().visibleNodes()).extracting(NodeStatus::name).containsExactly("pg1", "pg3", "pg4");
        assertThat(Health.REMOVED.isSticky() && Health.FENCED.isSticky() && Health.DRAINED.isSticky()).isTrue();
        assertThat(Health.UP.isSticky()).isFalse();
    }

    @Test
    void aBanTakesAReplicaOutForEveryoneAndARenewalKeepsItsStart() {
        ClusterState state = new ClusterState(NODES);
        state.update(t -> t.with(node(t, 0, Role.PRIMARY, Health.UP, 1)).with(node(t, 1, Role.REPLICA, Health.UP, 1)));

        assertThat(state.ban(1, new Ban(Ban.Cause.CONNECT_FAILED, "timeout", 1000, 31_000))).isTrue();
        NodeStatus banned = state.current().node(1);
        assertThat(banned.isUp()).as("a banned replica takes no reads").isFalse();
        assertThat(banned.health()).isEqualTo(Health.UP);

        assertThat(state.ban(1, new Ban(Ban.Cause.QUERY_TIMEOUT, "silent", 5000, 35_000))).as("renewed").isFalse();
        Ban renewed = state.current().node(1).ban();
        assertThat(renewed.sinceMillis()).isEqualTo(1000);
        assertThat(renewed.untilMillis()).isEqualTo(35_000);
        assertThat(renewed.cause()).isEqualTo(Ban.Cause.QUERY_TIMEOUT);
        assertThat(renewed.expired(34_999)).isFalse();
        assertThat(renewed.expired(35_000)).isTrue();
    }

    @Test
    void thePrimaryAndUnprobedNodesAreNeverBanned() {
        ClusterState state = new ClusterState(NODES);
        state.update(t -> t.with(node(t, 0, Role.PRIMARY, Health.UP, 1)));

        assertThat(state.ban(0, new Ban(Ban.Cause.CONNECT_FAILED, "timeout", 0, 10_000))).isFalse();
        assertThat(state.ban(2, new Ban(Ban.Cause.CONNECT_FAILED, "timeout", 0, 10_000))).isFalse();
        assertThat(state.current().node(0).ban()).isNull();
        assertThat(state.current().primary()).isNotNull();
        assertThat(state.current().node(2).ban()).isNull();
    }
}
