package io.pgrelay.core.metrics;

import com.codahale.metrics.MetricRegistry;
import io.pgrelay.core.cluster.ClusterState;
import io.pgrelay.core.config.ProxyConfig.NodeConfig;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class UnitTimerTest {
    private final ProxyMetrics metrics = new ProxyMetrics(new MetricRegistry(),
            new ClusterState(List.of(new NodeConfig("pg1", "127.0.0.1", 5432, null))));

    @Test
    void pipelinedUnitsCompleteInOrderAndTheRingGrows() throws InterruptedException {
        UnitTimer timer = new UnitTimer();
        timer.sent();
        Thread.sleep(20);
        for (int i = 0; i < 20; i++) {
            timer.sent();
        }
        assertThat(timer.inFlight()).isEqualTo(21);
        timer.completed(metrics);
        // The first unit waited at least the 20 ms slept after it was sent.
        assertThat(metrics.latency().getSnapshot().getMax()).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(20));
        timer.dropOldest();
        for (int i = 0; i < 19; i++) {
            timer.completed(metrics);
        }
        assertThat(metrics.latency().getCount()).isEqualTo(20);
        assertThat(timer.inFlight()).isZero();
        timer.completed(metrics);
        assertThat(metrics.latency().getCount()).isEqualTo(20);
        timer.sent();
        timer.clear();
        assertThat(timer.inFlight()).isZero();
    }
}
