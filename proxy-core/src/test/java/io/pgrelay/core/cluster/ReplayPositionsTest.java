package io.pgrelay.core.cluster;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ReplayPositionsTest {
    @Test
    void aConfirmationCountsOnItsTimelineAndOnlyMovesForwardWhileFresh() {
        ReplayPositions positions = new ReplayPositions();
        assertThat(positions.replayed(1, 1)).isEqualTo(Lsn.INVALID);
        positions.confirmed(1, 1, 0x5000L);
        positions.confirmed(1, 1, 0x4000L); // an older answer that arrived late
        assertThat(positions.replayed(1, 1)).isEqualTo(0x5000L);
        assertThat(positions.replayed(1, 2)).as("another timeline").isEqualTo(Lsn.INVALID);
        assertThat(positions.replayed(2, 1)).as("another node").isEqualTo(Lsn.INVALID);
        positions.confirmed(1, 2, 0x100L);
        assertThat(positions.replayed(1, 2)).as("a new timeline replaces the old").isEqualTo(0x100L);
        assertThat(positions.replayed(1, 1)).isEqualTo(Lsn.INVALID);
    }
}
