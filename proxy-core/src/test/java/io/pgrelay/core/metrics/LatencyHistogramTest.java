package io.pgrelay.core.metrics;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Bucket counting of LatencyHistogram: bounds are inclusive, beyond the last is +Inf, nothing is lost under concurrency. */
class LatencyHistogramTest {
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
    private final LatencyHistogram histogram = new LatencyHistogram();

    private static int bucketOf(double seconds) {
        double[] bounds = LatencyHistogram.upperBoundsSeconds();
        for (int i = 0; i < bounds.length; i++) {
            if (seconds <= bounds[i]) {
                return i;
            }
        }
        return bounds.length;
    }

    @Test
    void boundsAreIncreasingSecondsFromFiftyMicrosToThirty() {
        double[] bounds = LatencyHistogram.upperBoundsSeconds();
        assertThat(bounds[0]).isEqualTo(0.00005);
        assertThat(bounds[bounds.length - 1]).isEqualTo(30.0);
        for (int i = 1; i < bounds.length; i++) {
            assertThat(bounds[i]).isGreaterThan(bounds[i - 1]);
        }
        assertThat(histogram.snapshot().counts()).hasSize(bounds.length + 1).containsOnly(0L);
    }

    @Test
    void aValueOnABoundCountsInThatBucketAndOneNanoMoreInTheNext() {
        histogram.record(MS);
        histogram.record(MS + 1);
        histogram.record(0);
        histogram.record(-5); // a clock that went back: zero
        LatencyHistogram.Snapshot snapshot = histogram.snapshot();
        long[] counts = snapshot.counts();
        assertThat(counts[bucketOf(0.001)]).isEqualTo(1);
        assertThat(counts[bucketOf(0.001) + 1]).isEqualTo(1);
        assertThat(counts[0]).isEqualTo(2);
        assertThat(snapshot.count()).isEqualTo(4);
        assertThat(histogram.getCount()).isEqualTo(4);
        assertThat(snapshot.sumNanos()).isEqualTo(2 * MS + 1);
        assertThat(snapshot.sumSeconds()).isEqualTo((2 * MS + 1) / 1e9);
    }

    @Test
    void everyValueLandsInTheFirstBucketWhoseBoundHoldsIt() {
        long[] values = {1, 49_999, 50_000, 50_001, 300_000, 7 * MS, 999 * MS, 1000 * MS, 29_999 * MS, 30_000 * MS,
                30_000 * MS + 1, Long.MAX_VALUE};
        long[] expected = new long[LatencyHistogram.upperBoundsSeconds().length + 1];
        for (long value : values) {
            histogram.record(value);
            expected[bucketOf(value / 1e9)]++;
        }
        assertThat(histogram.snapshot().counts()).containsExactly(expected);
        assertThat(expected[expected.length - 1]).as("+Inf").isEqualTo(2);
    }

    @Test
    void concurrentRecordingLosesNothing() throws Exception {
        int threads = 4;
        int perThread = 50_000;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch go = new CountDownLatch(1);
            Future<?>[] done = new Future<?>[threads];
            for (int t = 0; t < threads; t++) {
                long value = (t + 1) * MS;
                done[t] = pool.submit(() -> {
                    go.await();
                    for (int i = 0; i < perThread; i++) {
                        histogram.record(value);
                    }
                    return null;
                });
            }
            go.countDown();
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        LatencyHistogram.Snapshot snapshot = histogram.snapshot();
        assertThat(snapshot.count()).isEqualTo((long) threads * perThread);
        assertThat(snapshot.sumNanos()).isEqualTo(perThread * (1 + 2 + 3 + 4) * MS);
        assertThat(snapshot.counts()[bucketOf(0.001)]).isEqualTo(perThread);
        assertThat(snapshot.counts()[bucketOf(0.002)]).isEqualTo(perThread);
        assertThat(snapshot.counts()[bucketOf(0.004)]).as("3 and 4 ms share the 5 ms bucket").isEqualTo(2L * perThread);
    }
}
