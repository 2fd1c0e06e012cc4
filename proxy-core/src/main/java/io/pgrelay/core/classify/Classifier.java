package io.pgrelay.core.classify;

import io.netty.buffer.ByteBuf;
import io.pgrelay.core.classify.StatementAnalyzer.Stmt;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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

    private static final class Scratch {
        final TokenBuffer tokens = new TokenBuffer();
        final long[] fingerprint = new long[2];
        byte[] bytes = new byte[1024];
    }

    private static final class Entry {
        final long k1;
        final long k2;
        final Classification value;

        Entry(long k1, long k2, Classification value) {
            this.k1 = k1;
            this.k2 = k2;
            this.value = value;
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
        if (length > config.maxStatementLength()) {
            return Classification.TOO_LONG;
        }
        if (buf.hasArray()) {
            return classify(buf.array(), buf.arrayOffset() + index, length, standardConformingStrings);
        }
        Scratch scratch = SCRATCH.get();
        if (scratch.bytes.length < length) {
            scratch.bytes = new byte[Math.max(length, scratch.bytes.length * 2)];
        }
        buf.getBytes(index, scratch.bytes, 0, length);
        return classify(scratch.bytes, 0, length, standardConformingStrings, scratch);
    }

    /** Classifies UTF-8 SQL text in {@code bytes[offset, offset+length)}. */
    public Classification classify(byte[] bytes, int offset, int length, boolean standardConformingStrings) {
        if (length > config.maxStatementLength()) {
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
        TokenBuffer tb = scratch.tokens;
        SqlLexer.lex(bytes, offset, length, scs, tb);
        if (tb.incomplete) {
            return Classification.INCOMPLETE;
        }
        Table t = currentTable();
        if (sets == 0) {
            misses.increment();
            return analyze(tb, t.catalog, bytes);
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
                return e.value;
            }
        }
        misses.increment();
        Classification c = analyze(tb, t.catalog, bytes);
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
        entries[base + victim] = new Entry(k1, k2, c);
        return c;
    }

    /**
     * The safety net: a statement routed to a replica was refused there with a standby-only error,
     * so from now on its fingerprint routes to the primary (until the catalog changes). Same
     * arguments as {@link #classify(ByteBuf, int, int, boolean)}.
     */
    public void rememberPrimary(ByteBuf buf, int index, int length, boolean standardConformingStrings) {
        if (length > config.maxStatementLength() || sets == 0) {
            return;
        }
        Scratch scratch = SCRATCH.get();
        byte[] bytes;
        int offset;
        if (buf.hasArray()) {
            bytes = buf.array();
            offset = buf.arrayOffset() + index;
        } else {
            if (scratch.bytes.length < length) {
                scratch.bytes = new byte[Math.max(length, scratch.bytes.length * 2)];
            }
            buf.getBytes(index, scratch.bytes, 0, length);
            bytes = scratch.bytes;
            offset = 0;
        }
        rememberPrimary(bytes, offset, length, standardConformingStrings, scratch);
    }

    /** {@link #rememberPrimary(ByteBuf, int, int, boolean)} for a String. */
    public void rememberPrimary(String sql, boolean standardConformingStrings) {
        byte[] bytes = sql.getBytes(StandardCharsets.UTF_8);
        if (bytes.length <= config.maxStatementLength() && sets > 0) {
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
        Classification remembered = new Classification(Route.PRIMARY, c.kind(),
                "refused by a standby: " + c.reason(), c.effects(), c.statementCount());
        Entry[] entries = currentTable().entries;
        int base = (int) ((fp[0] ^ (fp[0] >>> 29)) & (sets - 1)) * WAYS;
        int slot = (int) ((fp[1] >>> 17) & (WAYS - 1));
        for (int w = 0; w < WAYS; w++) {
            Entry e = entries[base + w];
            if (e != null && e.k1 == fp[0] && e.k2 == fp[1]) {
                slot = w;
                break;
            }
        }
        entries[base + slot] = new Entry(fp[0], fp[1], remembered);
    }

    private Classification analyze(TokenBuffer tb, Catalog catalog, byte[] bytes) {
        StatementAnalyzer a = new StatementAnalyzer(tb, catalog, overrides);
        List<Stmt> stmts = a.analyzeAll();
        refine(a, stmts, catalog);
        return combine(stmts, tb.hint());
    }

    /** Lets Calcite refine statements whose only hazard was an unsafe relation's name outside a FROM position. */
    private void refine(StatementAnalyzer a, List<Stmt> stmts, Catalog catalog) {
        if (!config.useCalcite()) {
            return;
        }
        for (Stmt s : stmts) {
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

    static Classification combine(List<Stmt> stmts, boolean hint) {
        int hintFlag = hint ? Effects.HINT_PRIMARY : 0;
        if (stmts.isEmpty()) {
            return new Classification(hint ? Route.PRIMARY : Route.REPLICA, StatementKind.OTHER,
                    hint ? "pgrelay:primary hint" : "empty query", Effects.EMPTY | hintFlag, 0);
        }
        if (stmts.size() == 1) {
            Stmt s = stmts.get(0);
            return new Classification(hint ? Route.PRIMARY : s.route, s.kind,
                    hint ? "pgrelay:primary hint" : s.reason, s.effects | hintFlag, 1);
        }
        Map<String, Route> cursors = new HashMap<>();
        Map<String, Route> prepared = new HashMap<>();
        Route[] routes = new Route[stmts.size()];
        int effects = Effects.MULTI | hintFlag;
        boolean write = false;
        for (int i = 0; i < stmts.size(); i++) {
            Stmt s = stmts.get(i);
            Route r = s.route;
            if (s.declareName != null) {
                cursors.put(s.declareName, r);
            } else if (s.cursorRef != null && cursors.containsKey(s.cursorRef)) {
                r = cursors.get(s.cursorRef);
            } else if (s.prepareName != null) {
                prepared.put(s.prepareName, r);
            } else if (s.executeName != null && prepared.containsKey(s.executeName)) {
                r = prepared.get(s.executeName);
            }
            routes[i] = r;
            effects |= s.effects;
            write |= s.kind == StatementKind.WRITE;
        }
        for (int i = 0; i < stmts.size(); i++) {
            if (!stmts.get(i).softTxnStart) {
                continue;
            }
            boolean allReplica = true;
            for (int j = i + 1; j < stmts.size(); j++) {
                Stmt s = stmts.get(j);
                if (s.closesTxn) {
                    if (allReplica) {
                        routes[i] = Route.REPLICA;
                    }
                    break;
                }
                if (routes[j] != Route.REPLICA || (s.effects & Effects.BEGIN) != 0) {
                    allReplica = false;
                }
            }
        }
        Route route = hint ? Route.PRIMARY : Route.REPLICA;
        String reason = null;
        for (int i = 0; i < stmts.size(); i++) {
            if (routes[i] == Route.PRIMARY) {
                route = Route.PRIMARY;
                if (reason == null) {
                    reason = stmts.get(i).reason;
                }
            }
        }
        if (hint) {
            reason = "pgrelay:primary hint";
        }
        if (reason == null) {
            reason = stmts.size() + " replica-safe statements";
        }
        StatementKind kind = write ? StatementKind.WRITE : stmts.get(0).kind;
        return new Classification(route, kind, reason, effects, stmts.size());
    }

    /**
     * Full, uncached analysis: per statement its classification, text range, command and, for
     * statements with session effects, the parsed details the session needs.
     */
    public List<StatementInfo> analyze(String sql, boolean standardConformingStrings) {
        byte[] bytes = sql.getBytes(StandardCharsets.UTF_8);
        TokenBuffer tb = new TokenBuffer();
        SqlLexer.lex(bytes, 0, bytes.length, standardConformingStrings, tb);
        List<StatementInfo> out = new ArrayList<>();
        if (tb.incomplete() || bytes.length > config.maxStatementLength()) {
            Classification c = tb.incomplete() ? Classification.INCOMPLETE : Classification.TOO_LONG;
            out.add(new StatementInfo(c, 0, sql.length(), sql, "", null));
            return out;
        }
        Catalog catalog = currentTable().catalog;
        StatementAnalyzer a = new StatementAnalyzer(tb, catalog, overrides);
        List<Stmt> stmts = a.analyzeAll();
        refine(a, stmts, catalog);
        boolean hint = tb.hint();
        for (Stmt s : stmts) {
            int bs = a.byteStart(s.from);
            int be = a.byteEnd(s.to - 1);
            int cs = new String(bytes, 0, bs, StandardCharsets.UTF_8).length();
            String text = new String(bytes, bs, be - bs, StandardCharsets.UTF_8);
            StatementInfo.Details details = s.details;
            if (details == null && !s.setConfigCalls.isEmpty()) {
                details = a.setConfigDetails(s.setConfigCalls.get(0));
            }
            Classification c = new Classification(hint ? Route.PRIMARY : s.route, s.kind,
                    hint ? "pgrelay:primary hint" : s.reason, s.effects | (hint ? Effects.HINT_PRIMARY : 0), 1);
            out.add(new StatementInfo(c, cs, cs + text.length(), text, s.command.toUpperCase(Locale.ROOT), details));
        }
        return out;
    }
}
