package io.pgrelay.core.session;

import io.pgrelay.core.cluster.ClusterState;
import io.pgrelay.core.cluster.Health;
import io.pgrelay.core.cluster.NodeStatus;
import io.pgrelay.core.cluster.Role;
import io.pgrelay.core.cluster.Topology;
import io.pgrelay.core.config.ProxyConfig.NodeConfig;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class CausalStateTest {
    private static Topology primaryOnTimeline(int timeline, long currentLsn) {
        ClusterState state = new ClusterState(List.of(new NodeConfig("pg1", "127.0.0.1", 5432, 1)));
        NodeStatus initial = state.current().node(0);
        NodeStatus primary = new NodeStatus(0, initial.config(), Role.PRIMARY, Health.UP, timeline, currentLsn, 0, 0,
                0, 0, 0, 0, null, null);
        return state.current().with(primary);
    }

    @Test
    void unconstrainedUntilAWriteOrAPosition() {
        CausalState state = new CausalState(Consistency.CAUSAL);
        assertThat(state.constrained()).isFalse();
        assertThat(state.satisfiedBy(0, 1)).isTrue();
    }

    @Test
    void pendingPositionSendsReadsToThePrimary() {
        CausalState state = new CausalState(Consistency.CAUSAL);
        state.writeCommitted();
        assertThat(state.primaryOnly()).isTrue();
        state.wrote(0x3000060L, 1);
        assertThat(state.primaryOnly()).isFalse();
        assertThat(state.satisfiedBy(0x3000000L, 1)).isFalse();
        assertThat(state.satisfiedBy(0x3000060L, 1)).isTrue();
        assertThat(state.lastLsn()).isEqualTo(0x3000060L);
    }

    @Test
    void unknownPositionKeepsReadsOnThePrimaryUntilTheNextWrite() {
        CausalState state = new CausalState(Consistency.CAUSAL);
        state.writeCommitted();
        state.writeUnknown();
        assertThat(state.primaryOnly()).isTrue();
        state.writeCommitted();
        state.wrote(0x100L, 1);
        assertThat(state.primaryOnly()).isFalse();
    }

    @Test
    void aPositionOnAnotherTimelineNeverMatchesByAccident() {
        CausalState state = new CausalState(Consistency.CAUSAL);
        state.wrote(0x5000000L, 1);
        assertThat(state.satisfiedBy(0x9000000L, 2)).as("further on a newer timeline is not proof").isFalse();
        state.followTimeline(primaryOnTimeline(2, 0x5100000L));
        assertThat(state.satisfiedBy(0x50FFFFFL, 2)).isFalse();
        assertThat(state.satisfiedBy(0x5100000L, 2)).isTrue();
        assertThat(state.satisfiedBy(0x9000000L, 1)).as("the old timeline no longer counts").isFalse();
    }

    @Test
    void minLsnAppliesInEventualModeAndOnlyMovesForward() {
        CausalState state = new CausalState(Consistency.EVENTUAL);
        state.require(0x2000L, 1);
        state.require(0x1000L, 1);
        assertThat(state.constrained()).isTrue();
        assertThat(state.requiredLsn()).isEqualTo(0x2000L);
        assertThat(state.satisfiedBy(0x1FFFL, 1)).isFalse();
    }

    @Test
    void lsnsCompareUnsigned() {
        CausalState state = new CausalState(Consistency.CAUSAL);
        state.wrote(0x8000000000000000L, 1);
        assertThat(state.satisfiedBy(0x7FFFFFFFFFFFFFFFL, 1)).isFalse();
    }

    @Test
    void aGlobalReadsRequirementHoldsForThatReadAloneOnTopOfTheSessions() {
        CausalState state = new CausalState(Consistency.GLOBAL);
        state.wrote(0x1000L, 1);
        state.requireForRead(0x3000L, 1);
        assertThat(state.constrained()).isTrue();
        assertThat(state.satisfiedBy(0x2FFFL, 1)).as("behind the primary's position at the read's start").isFalse();
        assertThat(state.satisfiedBy(0x3000L, 2)).as("another timeline").isFalse();
        assertThat(state.satisfiedBy(0x3000L, 1)).isTrue();
        state.readRouted();
        assertThat(state.satisfiedBy(0x1000L, 1)).as("the session's own requirement stays").isTrue();
        assertThat(state.satisfiedBy(0x0FFFL, 1)).isFalse();
        assertThat(state.requiredLsn()).as("a read's position is not the session's min_lsn").isEqualTo(0x1000L);
    }
}
