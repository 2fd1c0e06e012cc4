package io.pgrelay.bench;

import com.codahale.metrics.LockFreeExponentiallyDecayingReservoir;
import com.codahale.metrics.Timer;
import io.pgrelay.core.metrics.LatencyHistogram;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Recording one statement's latency, as every ReadyForQuery does on an event loop: the fixed-bucket
 * {@link LatencyHistogram} against the Dropwizard timer with a lock-free exponentially decaying
 * reservoir it replaced. Both are shared, as they are between event loops; run with {@code -t 2}
 * for two recording threads. Latencies cycle through typical values (0.2 ms to 20 ms).
 */
@BenchmarkMode({Mode.AverageTime})
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class LatencyRecordingBenchmark {
    private static final long[] LATENCIES = {200_000, 350_000, 800_000, 1_500_000, 4_000_000, 20_000_000, 450_000, 600_000};

    private final LatencyHistogram histogram = new LatencyHistogram();
    private final Timer timer = new Timer(LockFreeExponentiallyDecayingReservoir.builder().build());

    @State(Scope.Thread)
    public static class Cursor {
        int next;

        long latency() {
            return LATENCIES[next++ & (LATENCIES.length - 1)];
        }
    }

    @Benchmark
    public void histogram(Cursor cursor) {
        histogram.record(cursor.latency());
    }

    @Benchmark
    public void dropwizardTimer(Cursor cursor) {
        timer.update(cursor.latency(), TimeUnit.NANOSECONDS);
    }
}
