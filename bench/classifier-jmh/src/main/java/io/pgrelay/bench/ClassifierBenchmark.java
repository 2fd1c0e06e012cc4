package io.pgrelay.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.pgrelay.core.classify.CalciteSupport;
import io.pgrelay.core.classify.CatalogSnapshot;
import io.pgrelay.core.classify.Classification;
import io.pgrelay.core.classify.Classifier;
import io.pgrelay.core.classify.ClassifierConfig;
import io.pgrelay.core.classify.Fingerprint;
import io.pgrelay.core.classify.SqlLexer;
import io.pgrelay.core.classify.TokenBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The classifier's costs: fingerprint of a 200-character SELECT (lex + hash), cached
 * classification (fingerprint + cache hit, reading a ByteBuf in place), uncached classification
 * (token analysis, no cache) and — reported separately, it is not on the hot path — Calcite's
 * parse of the same statement. SampleTime gives p50/p99.
 */
@BenchmarkMode({Mode.SampleTime, Mode.AverageTime})
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Thread)
public class ClassifierBenchmark {
    /** A typical 200-character SELECT. */
    public static final String SELECT_200 = "SELECT c.id, c.name, count(o.id) AS orders, sum(o.total) AS revenue"
            + " FROM customers c JOIN orders o ON o.customer_id = c.id WHERE c.country = 'DE' AND o.total > 100"
            + " AND o.status = 'paid' GROUP BY c.id, c.name";

    private byte[] bytes;
    private ByteBuf buf;
    private ByteBuf[] pgbenchLike;
    private int next;
    private TokenBuffer tokens;
    private long[] fingerprint;
    private Classifier cached;
    private Classifier uncached;

    @Setup(Level.Trial)
    public void setUp() {
        bytes = SELECT_200.getBytes(StandardCharsets.UTF_8);
        buf = Unpooled.wrappedBuffer(bytes);
        pgbenchLike = new ByteBuf[1024];
        for (int i = 0; i < pgbenchLike.length; i++) {
            pgbenchLike[i] = Unpooled.wrappedBuffer(("SELECT abalance FROM pgbench_accounts WHERE aid = "
                    + (i * 7919 % 100000)).getBytes(StandardCharsets.UTF_8));
        }
        tokens = new TokenBuffer();
        fingerprint = new long[2];
        CatalogSnapshot catalog = CatalogSnapshot.build("bench", new CatalogSnapshot.Raw(List.of(), List.of(
                new CatalogSnapshot.RawRelation("public", "customers", 'r', 'p'),
                new CatalogSnapshot.RawRelation("public", "orders", 'r', 'p'),
                new CatalogSnapshot.RawRelation("public", "pgbench_accounts", 'r', 'p'),
                new CatalogSnapshot.RawRelation("public", "session_cache", 'r', 'u')),
                List.of(), List.of(), List.of(), List.of()));
        cached = new Classifier(catalog, ClassifierConfig.defaults());
        uncached = new Classifier(catalog, ClassifierConfig.defaults().withCacheSize(0));
        if (cached.classify(buf, 0, bytes.length, true).isPrimary()
                || uncached.classify(buf, 0, bytes.length, true).isPrimary()) {
            throw new IllegalStateException("the benchmark statement should be a replica read");
        }
        if (CalciteSupport.parse(SELECT_200) == null) {
            throw new IllegalStateException("Calcite should parse the benchmark statement");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        buf.release();
        for (ByteBuf b : pgbenchLike) {
            b.release();
        }
    }

    @Benchmark
    public long fingerprint200() {
        SqlLexer.lex(bytes, 0, bytes.length, true, tokens);
        Fingerprint.compute(tokens, fingerprint);
        return fingerprint[0] ^ fingerprint[1];
    }

    @Benchmark
    public Classification cachedClassify200() {
        return cached.classify(buf, 0, bytes.length, true);
    }

    /** pgbench -S: the same statement with a different literal each time, all cache hits. */
    @Benchmark
    public Classification cachedClassifyPgbenchSelect() {
        ByteBuf b = pgbenchLike[next++ & (pgbenchLike.length - 1)];
        return cached.classify(b, 0, b.readableBytes(), true);
    }

    @Benchmark
    public Classification uncachedClassify200() {
        return uncached.classify(buf, 0, bytes.length, true);
    }

    @Benchmark
    public Object calciteParse200() {
        return CalciteSupport.parse(SELECT_200);
    }
}
