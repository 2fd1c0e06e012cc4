package io.pgrelay.core.metrics;

import com.codahale.metrics.Counting;
import com.codahale.metrics.Metric;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * A latency distribution in fixed buckets, for the Prometheus histogram it is exported as. It is
 * updated once per statement or transaction on every event loop, so recording is a short scan of
 * the bounds and two striped adds: no lock, no allocation, no sorted reservoir (the Dropwizard
 * timer's exponentially decaying reservoir inserted into a skip list on every update). Prometheus
 * computes quantiles and rates from the cumulative buckets, so nothing decays here.
 */
public final class LatencyHistogram implements Metric, Counting {
    /**
     * Upper bounds (inclusive, as Prometheus' {@code le}) in nanoseconds: roughly ×2 steps from a
     * loopback round trip to the longest statement worth telling apart; beyond is {@code +Inf}.
     */
    private static final long[] BOUNDS_NANOS = {
            50_000L, 100_000L, 250_000L, 500_000L,
            1_000_000L, 2_500_000L, 5_000_000L, 10_000_000L, 25_000_000L, 50_000_000L,
            100_000_000L, 250_000_000L, 500_000_000L,
            1_000_000_000L, 2_500_000_000L, 5_000_000_000L, 10_000_000_000L, 30_000_000_000L};

    /** Per-bucket (not cumulative) counts; the last one counts what exceeds every bound. */
    private final LongAdder[] buckets = new LongAdder[BOUNDS_NANOS.length + 1];
    private final LongAdder sumNanos = new LongAdder();

    public LatencyHistogram() {
        for (int i = 0; i < buckets.length; i++) {
            buckets[i] = new LongAdder();
        }
    }

    /** Records one duration; a negative one (a clock that went back) counts as zero. */
    public void record(long nanos) {
        long value = Math.max(0, nanos);
        int i = 0;
        while (i < BOUNDS_NANOS.length && value > BOUNDS_NANOS[i]) {
            i++;
        }
        buckets[i].increment();
        sumNanos.add(value);
    }

    /** The bucket bounds in seconds, without {@code +Inf}. */
    public static double[] upperBoundsSeconds() {
        double[] seconds = new double[BOUNDS_NANOS.length];
        for (int i = 0; i < seconds.length; i++) {
            seconds[i] = BOUNDS_NANOS[i] / (double) TimeUnit.SECONDS.toNanos(1);
        }
        return seconds;
    }

    /** The counts now; taken bucket by bucket while recording goes on, so as exact as a scrape needs. */
    public Snapshot snapshot() {
        long[] counts = new long[buckets.length];
        for (int i = 0; i < counts.length; i++) {
            counts[i] = buckets[i].sum();
        }
        return new Snapshot(counts, sumNanos.sum());
    }

    @Override
    public long getCount() {
        long count = 0;
        for (LongAdder bucket : buckets) {
            count += bucket.sum();
        }
        return count;
    }

    /**
     * Counts per bucket, not cumulative: {@code counts[i]} for bound {@code i} of
     * {@link #upperBoundsSeconds()}, the last entry for {@code +Inf}.
     */
    public record Snapshot(long[] counts, long sumNanos) {
        public long count() {
            long count = 0;
            for (long c : counts) {
                count += c;
            }
            return count;
        }

        public double sumSeconds() {
            return sumNanos / (double) TimeUnit.SECONDS.toNanos(1);
        }
    }
}
