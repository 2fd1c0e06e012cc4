package io.pgrelay.core.session;

import io.netty.channel.embedded.EmbeddedChannel;
import io.pgrelay.core.cluster.Lsn;
import io.pgrelay.core.cluster.PrimaryPosition;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class GlobalReadTest {
    private final EmbeddedChannel channel = new EmbeddedChannel();
    private final List<PrimaryPosition.Listener> asked = new ArrayList<>();
    private final CausalState causal = new CausalState(Consistency.GLOBAL);

    private GlobalRead global(long waitMillis) {
        return new GlobalRead(causal, asked::add, TimeUnit.MILLISECONDS.toNanos(waitMillis));
    }

    @Test
    void offUnlessTheSessionIsGlobal() {
        GlobalRead global = global(100);
        causal.mode(Consistency.CAUSAL);
        assertThat(global.stage()).isEqualTo(GlobalRead.Stage.OFF);
        causal.mode(Consistency.GLOBAL);
        assertThat(global.stage()).isEqualTo(GlobalRead.Stage.NEEDS_POSITION);
    }

    @Test
    void theLearnedPositionBindsTheReadUntilItIsRouted() {
        GlobalRead global = global(10_000);
        int[] ready = {0};
        global.learnPosition(channel.eventLoop(), () -> ready[0]++);
        assertThat(global.stage()).isEqualTo(GlobalRead.Stage.POSITION_PENDING);
        asked.get(0).position(0x5000L, 1);
        channel.runPendingTasks();
        assertThat(ready[0]).isEqualTo(1);
        assertThat(global.stage()).isEqualTo(GlobalRead.Stage.WAITING);
        assertThat(global.mayWait()).isTrue();
        assertThat(causal.constrained()).isTrue();
        assertThat(causal.satisfiedBy(0x4FFFL, 1)).isFalse();
        assertThat(causal.satisfiedBy(0x5000L, 1)).isTrue();
        global.done();
        assertThat(global.stage()).isEqualTo(GlobalRead.Stage.NEEDS_POSITION);
        assertThat(causal.constrained()).as("the next read learns its own position").isFalse();
    }

    @Test
    void theWaitEndsAtTheDeadline() throws InterruptedException {
        GlobalRead global = global(0);
        global.learnPosition(channel.eventLoop(), () -> { });
        asked.get(0).position(0x5000L, 1);
        channel.runPendingTasks();
        assertThat(global.stage()).as("one replica check is always made").isEqualTo(GlobalRead.Stage.WAITING);
        global.checkFailed();
        assertThat(global.stage()).isEqualTo(GlobalRead.Stage.EXPIRED);
        assertThat(global.mayWait()).isFalse();
    }

    @Test
    void withinTheWaitAFailedCheckPausesThenAsksAgain() {
        GlobalRead global = global(10_000);
        int[] ready = {0};
        global.learnPosition(channel.eventLoop(), () -> { });
        asked.get(0).position(0x5000L, 1);
        channel.runPendingTasks();
        global.checkFailed();
        assertThat(global.mayWait()).isTrue();
        global.pause(channel.eventLoop(), () -> ready[0]++);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (ready[0] == 0 && System.nanoTime() < deadline) {
            channel.runScheduledPendingTasks();
        }
        assertThat(ready[0]).isEqualTo(1);
    }

    @Test
    void anUnknownPositionSendsTheReadToThePrimary() {
        GlobalRead global = global(100);
        global.learnPosition(channel.eventLoop(), () -> { });
        asked.get(0).position(Lsn.INVALID, 0);
        channel.runPendingTasks();
        assertThat(global.stage()).isEqualTo(GlobalRead.Stage.UNKNOWN);
        assertThat(causal.constrained()).isFalse();
    }

    @Test
    void aLateAnswerForAnEarlierReadChangesNothing() {
        GlobalRead global = global(100);
        int[] ready = {0};
        global.learnPosition(channel.eventLoop(), () -> ready[0]++);
        global.done(); // the read failed meanwhile (the client went, or an error)
        asked.get(0).position(0x5000L, 1);
        channel.runPendingTasks();
        assertThat(ready[0]).isZero();
        assertThat(global.stage()).isEqualTo(GlobalRead.Stage.NEEDS_POSITION);
        assertThat(causal.constrained()).isFalse();
    }
}
