package io.pgrelay.core.classify;

import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * Classifies query strings for one database: thread-safe, shared by all event loops.
 *
 * <p>The hot path ({@link #classify(ByteBuf, int, int, boolean)}) lexes the bytes in place into a
 * per-thread {@link TokenBuffer}, computes the 128-bit {@link Fingerprint} and looks it up in a
 * bounded, set-associative cache (4 ways; lock-free reads of immutable entries; nothing allocated
 * on a hit). Only a miss runs {@link StatementAnalyzer} (and, where it adds information,
 * {@link CalciteSupport}). Because classifications are keyed by fingerprint, they are literal-blind
 * by construction (see {@link StatementAnalyzer}).
 *
 * <p>The cache belongs to one catalog state: when the {@link Catalog} object given by the supplier
 * changes (a new snapshot was loaded and differs), the cache is dropped.
 *
 * <p>A multi-statement string takes the strictest route of its parts; its kind is the first
 * statement's kind, or WRITE when any part writes. Within one string, a cursor declared or a
 * statement prepared earlier resolves a later FETCH / EXECUTE, and a plain BEGIN whose transaction
 * is committed in the same string, with only replica-safe statements in between, is replica-safe.
 */
public final class Classifier {
    private static final int WAYS = 4;

    private final Supplier<Catalog> catalogSupplier;
    private final ClassifierConfig config;
    private final FunctionOverrides overrides;
    private final int sets;
    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();
    private final LongAdder calciteParses = new LongAdder();
    private final LongAdder calciteNanos = new LongAdder();
    private volatile Table table;

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** Per-thread buffers sized for ordinary statements; a rare long one does not keep them big. */
    private static final class Scratch {
        static final int KEPT_BYTES = 64 * 1024;
        static final int KEPT_TOKENS = 8 * 1024;
        TokenBuffer tokens = new TokenBuffer();
        final long[] fingerprint = new long[2];
        byte[] bytes = new byte[1024];

        /** {@code length} bytes to copy a statement into: the kept array, or a one-off for a long statement. */
        byte[] bytesFor(int length) {
            if (length > KEPT_BYTES) {
                return new byte[length];
            }
            if (bytes.length < length) {
                bytes = new byte[Math.min(KEPT_BYTES, Math.max(length, bytes.length * 2))];
            }
            return bytes;
        }

        void shrinkTokens() {
            if (tokens.capacity() > KEPT_TOKENS) {
                tokens = new TokenBuffer();
            }
        }
    }

    private static final class Entry {
        final long k1;
        final long k2;
        final Classification value;
        /** How to take the literal values of session effects from another text; null when there are none. */
        final EffectBindings bindings;

        Entry(long k1, long k2, Classification value, EffectBindings bindings) {
            this.k1 = k1;
            this.k2 = k2;
            this.value = value;
            this.bindings = bindings;
        }
    }

    private static final class Table {
        final Catalog catalog;
        final Entry[] entries;

        Table(Catalog catalog, int size) {
            this.catalog = catalog;
            this.entries = new Entry[size];
        }
    }

    public Classifier(Supplier<Catalog> catalogSupplier, ClassifierConfig config) {
        this.catalogSupplier = Objects.requireNonNull(catalogSupplier, "catalogSupplier");
        this.config = Objects.requireNonNull(config, "config");
        this.overrides = new FunctionOverrides(config.writeFunctions(), config.readOnlyFunctions());
        int s = 1;
        while (s * WAYS < config.cacheSize()) {
            s <<= 1;
        }
        this.sets = config.cacheSize() == 0 ? 0 : s;
        this.table = new Table(catalogSupplier.get(), sets * WAYS);
    }

    /** A classifier over a fixed catalog. */
    public Classifier(Catalog catalog, ClassifierConfig config) {
        this(() -> catalog, config);
    }

    public ClassifierConfig config() {
        return config;
    }

    public long cacheHits() {
        return hits.sum();
    }

    public long cacheMisses() {
        return misses.sum();
    }

    /** Entries in the cache now; walks the table, so for metrics scrapes rather than the hot path. */
    public int cacheSize() {
        int size = 0;
        for (Entry entry : table.entries) {
            if (entry != null) {
                size++;
            }
        }
        return size;
    }

    /** Statements handed to Calcite for refinement since start. */
    public long calciteParses() {
        return calciteParses.sum();
    }

    /** Time spent in Calcite parsing since start. */
    public long calciteNanos() {
        return calciteNanos.sum();
    }

    /** The catalog the classifier currently uses. */
    public Catalog catalog() {
        return currentTable().catalog;
    }

    private Table currentTable() {
        Catalog c = catalogSupplier.get();
        Table t = table;
        if (t.catalog != c) {
            t = new Table(c, sets * WAYS);
            table = t;
        }
        return t;
    }

    /**
     * The hot path: classifies the SQL text in {@code buf[index, index+length)} (a Query's text
     * without its NUL, or a Parse's query string), read in place.
     */
    public Classification classify(ByteBuf buf, int index, int length, boolean standardConformingStrings) {
        if (length > config.maxScanLength()) {
            return Classification.TOO_LONG;
        }
        if (buf.hasArray()) {
            return classify(buf.array(), buf.arrayOffset() + index, length, standardConformingStrings);
        }
        Scratch scratch = SCRATCH.get();
        byte[] bytes = scratch.bytesFor(length);
        buf.getBytes(index, bytes, 0, length);
        return classify(bytes, 0, length, standardConformingStrings, scratch);
    }

    /** Classifies UTF-8 SQL text in {@code bytes[offset, offset+length)}. */
    public Classification classify(byte[] bytes, int offset, int length, boolean standardConformingStrings) {
        if (length > config.maxScanLength()) {
            return Classification.TOO_LONG;
        }
        return classify(bytes, offset, length, standardConformingStrings, SCRATCH.get());
    }

    /** Classifies {@code sql} (cached like the hot path). */
    public Classification classify(String sql, boolean standardConformingStrings) {
        byte[] bytes = sql.getBytes(StandardCharsets.UTF_8);
        return classify(bytes, 0, bytes.length, standardConformingStrings);
    }

    /** The fingerprint of {@code sql} (for the CLI and tests). */
    public static Fingerprint fingerprint(String sql, boolean standardConformingStrings) {
        byte[] bytes = sql.getBytes(StandardCharsets.UTF_8);
        TokenBuffer tb = new TokenBuffer();
        SqlLexer.lex(bytes, 0, bytes.length, standardConformingStrings, tb);
        return Fingerprint.of(tb);
    }

    private Classification classify(byte[] bytes, int offset, int length, boolean scs, Scratch scratch) {
        if (length <= config.maxStatementLength()) {
            return classifyLexed(bytes, offset, length, scs, scratch);
        }
        // Long, but perhaps only because of its literals: the analysis sees the text without them.
        try {
            return classifyLexed(bytes, offset, length, scs, scratch);
        } finally {
            scratch.shrinkTokens();
        }
    }

    private Classification classifyLexed(byte[] bytes, int offset, int length, boolean scs, Scratch scratch) {
        TokenBuffer tb = scratch.tokens;
        SqlLexer.lex(bytes, offset, length, scs, tb);
        if (tb.incomplete) {
            return Classification.INCOMPLETE;
        }
        if (length > config.maxStatementLength() && tb.strippedLength() > config.maxStatementLength()) {
            return Classification.TOO_LONG;
        }
        Table t = currentTable();
        if (sets == 0) {
            misses.increment();
            return analyze(tb, t.catalog).classification;
        }
        long[] fp = scratch.fingerprint;
        Fingerprint.compute(tb, fp);
        long k1 = fp[0];
        long k2 = fp[1];
        Entry[] entries = t.entries;
        int base = (int) ((k1 ^ (k1 >>> 29)) & (sets - 1)) * WAYS;
        for (int w = 0; w < WAYS; w++) {
            Entry e = entries[base + w];
            if (e != null && e.k1 == k1 && e.k2 == k2) {
                hits.increment();
                return e.bindings == null ? e.value : e.bindings.bind(e.value, tb);
            }
        }
        misses.increment();
        Analysed analysed = analyze(tb, t.catalog);
        Classification c = analysed.classification;
        int victim = -1;
        for (int w = 0; w < WAYS; w++) {
            if (entries[base + w] == null) {
                victim = w;
                break;
            }
        }
        if (victim < 0) {
            victim = (int) ((k2 >>> 17) & (WAYS - 1));
        }
        entries[base + victim] = new Entry(k1, k2, c, analysed.bindings);
        return c;
    }

    /**
     * The safety net: a statement routed to a replica was refused there with a standby-only error,
     * so from now on its fingerprint routes to the primary (until the catalog changes). Same
     * arguments as {@link #classify(ByteBuf, int, int, boolean)}.
     */
    public void rememberPrimary(ByteBuf buf, int index, int length, boolean standardConformingStrings) {
        if (length > config.maxScanLength() || sets == 0) {
            return;
        }
        Scratch scratch = SCRATCH.get();
        byte[] bytes;
        int offset;
        if (buf.hasArray()) {
            bytes = buf.array();
            offset = buf.arrayOffset() + index;
        } else {
            bytes = scratch.bytesFor(length);
            buf.getBytes(index, bytes, 0, length);
            offset = 0;
        }
        rememberPrimary(bytes, offset, length, standardConformingStrings, scratch);
    }

    /** {@link #rememberPrimary(ByteBuf, int, int, boolean)} for a String. */
    public void rememberPrimary(String sql, boolean standardConformingStrings) {
        byte[] bytes = sql.getBytes(StandardCharsets.UTF_8);
        if (bytes.length <= config.maxScanLength() && sets > 0) {
            rememberPrimary(bytes, 0, bytes.length, standardConformingStrings, SCRATCH.get());
        }
    }

    private void rememberPrimary(byte[] bytes, int offset, int length, boolean scs, Scratch scratch) {
        Classification c = classify(bytes, offset, length, scs, scratch);
        if (c.route() == Route.PRIMARY) {
            return;
        }
        TokenBuffer tb = scratch.tokens;
        SqlLexer.lex(bytes, offset, length, scs, tb);
        long[] fp = scratch.fingerprint;
        Fingerprint.compute(tb, fp);
        Classification remembered = c.onPrimary("refused by a standby: " + c.reason());
        Entry[] entries = currentTable().entries;
        int base = (int) ((fp[0] ^ (fp[0] >>> 29)) & (sets - 1)) * WAYS;
        int slot = (int) ((fp[1] >>> 17) & (WAYS - 1));
        EffectBindings bindings = null;
        for (int w = 0; w < WAYS; w++) {
            Entry e = entries[base + w];
            if (e != null && e.k1 == fp[0] && e.k2 == fp[1]) {
                slot = w;
                bindings = e.bindings;
                break;
            }
        }
        entries[base + slot] = new Entry(fp[0], fp[1], remembered, bindings);
    }

    /** A miss: the analysis, and how to bind it to other texts with the same fingerprint. */
    private record Analysed(Classification classification, EffectBindings bindings) {
    }

    private Analysed analyze(TokenBuffer tb, Catalog catalog) {
        StatementAnalyzer a = new StatementAnalyzer(tb, catalog, overrides);
        List<StatementBuilder> stmts = a.analyzeAll();
        refine(a, stmts, catalog);
        EffectBindings.wholeTextOfSoleStatement(stmts, tb);
        return new Analysed(Combination.of(stmts, tb.hint()), EffectBindings.of(stmts));
    }

    /** Lets Calcite refine statements whose only hazard was an unsafe relation's name outside a FROM position. */
    private void refine(StatementAnalyzer a, List<StatementBuilder> stmts, Catalog catalog) {
        if (!config.useCalcite()) {
            return;
        }
        for (StatementBuilder s : stmts) {
            if (s.route != Route.PRIMARY || !s.softOnly || !s.command.equals("SELECT") && !s.command.equals("WITH")
                    && !s.command.equals("VALUES")) {
                continue;
            }
            long start = System.nanoTime();
            CalciteSupport.Facts facts = CalciteSupport.facts(a.text(s.from, s.to));
            calciteNanos.add(System.nanoTime() - start);
            calciteParses.increment();
            if (facts == null || facts.dml) {
                continue;
            }
            boolean unsafe = false;
            for (String table : facts.tables) {
                if (catalog.isHazardousRelationName(table)) {
                    unsafe = true;
                    break;
                }
            }
            if (!unsafe) {
                s.route = Route.REPLICA;
                s.reason = "read-only " + s.command + " (AST: unsafe name is not a table)";
                s.softOnly = false;
            }
        }
    }
}
