package io.pgrelay.core.classify;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import static io.pgrelay.core.classify.SqlLexer.COMMA;
import static io.pgrelay.core.classify.SqlLexer.IDENT;
import static io.pgrelay.core.classify.SqlLexer.LBRACKET;
import static io.pgrelay.core.classify.SqlLexer.LPAREN;
import static io.pgrelay.core.classify.SqlLexer.OP;
import static io.pgrelay.core.classify.SqlLexer.QIDENT;
import static io.pgrelay.core.classify.SqlLexer.SEMI;
import static io.pgrelay.core.classify.SqlLexer.TYPECAST;

/**
 * The scan of a statement's whole token stream with parenthesis depth that finds what makes it
 * unsafe on a standby: locking clauses anywhere, data-modifying statements inside parentheses
 * (CTEs), {@code SELECT INTO}, every function call (looked up in the {@link Catalog}), every
 * relation in a FROM/JOIN/TABLE position (unlogged tables, unsafe views, unknown relations,
 * per-server views), user-defined operators. Keywords used as names and text in strings or
 * comments never change the result: the scan is positional and the lexer already separated
 * strings and comments from code.
 */
final class HazardScanner extends TokenView {
    private static final int F_NONE = 0;
    private static final int F_ITEM = 1;
    private static final int F_AFTER = 2;
    private static final int F_ON = 3;

    private static final int FR_SUBQUERY = 1;
    private static final int FR_FROMPAREN = 2;
    private static final int FR_EXPR = 3;

    private static final Set<String> CLAUSE_END = Set.of("where", "group", "having", "window", "order", "limit",
            "offset", "fetch", "for", "union", "intersect", "except", "returning", "into", "set", "when", "loop",
            "select", "values", "then", "do");
    /** Statements (and clauses) that make a function/DO body unsafe on a standby. */
    private static final Set<String> BODY_FORBIDDEN = Set.of("insert", "update", "delete", "merge", "truncate",
            "create", "alter", "drop", "grant", "revoke", "comment", "copy", "lock", "listen", "notify", "unlisten",
            "vacuum", "analyze", "analyse", "cluster", "reindex", "refresh", "security", "import", "reassign",
            "checkpoint", "load", "discard", "prepare", "deallocate", "execute", "reset", "commit", "rollback",
            "savepoint", "release");
    static final Set<String> DML_WORDS = Set.of("insert", "update", "delete", "merge");

    private final Catalog catalog;
    private final FunctionOverrides overrides;
    private final FunctionResolver functions;
    private final DeadCode deadCode;
    private final CteScopes ctes;
    private final int bodyNesting;

    HazardScanner(TokenView tokens, Catalog catalog, FunctionOverrides overrides, FunctionResolver functions,
                  int bodyNesting) {
        super(tokens);
        this.catalog = catalog;
        this.overrides = overrides;
        this.functions = functions;
        this.deadCode = new DeadCode(tokens, functions);
        this.ctes = new CteScopes(tokens);
        this.bodyNesting = bodyNesting;
    }

    /** The index of the statement after the CTE list of the WITH at {@code with}, or -1. */
    int cteList(int with, int to) {
        return ctes.mainStatement(with, to);
    }

    boolean isQueryStart(int i) {
        String ww = w(i);
        return ww != null && (ww.equals("select") || ww.equals("with") || ww.equals("values") || ww.equals("table"));
    }

    /** True when the DML keyword at {@code i} really starts a data-modifying statement. */
    boolean isDmlStart(int i) {
        String ww = w(i);
        if (ww == null) {
            return false;
        }
        switch (ww) {
            case "insert":
            case "merge":
                return is(i + 1, "into");
            case "delete":
                return is(i + 1, "from");
            case "update": {
                int kk = k(i + 1);
                if (is(i + 1, "set")) {
                    return false;
                }
                if (kk == QIDENT || is(i + 1, "only")) {
                    return true;
                }
                if (kk != IDENT) {
                    return false;
                }
                String cat = builtin.keywordCategory(words[i + 1]);
                return !"R".equals(cat) && !"T".equals(cat);
            }
            default:
                return false;
        }
    }

    void callHazard(int first, int endExclusive, Verdict v, ScanMode mode) {
        int last = endExclusive - 1;
        String fname = name(last);
        String schema = last - 2 >= first ? name(last - 2) : null;
        FunctionInfo f = functions.lookup(first, endExclusive);
        if (mode == ScanMode.PLAN && f != null && (f.volatileDeclared() || builtin.builtinFunction(fname) != null
                && (schema == null || schema.equals("pg_catalog")))) {
            return; // planning pre-evaluates only immutable (folding) and stable (estimates) user functions
        }
        if (f == null) {
            v.hazard(Severity.UNKNOWN, "unknown function " + (schema == null ? "" : schema + ".") + fname + "()"
                    + functions.notLoaded(), false);
            if (mode == ScanMode.QUERY) {
                // Its body is unknown too: it may change settings, or run SQL naming the session's objects.
                v.effect(new SessionEffect.UntrackedSetting("unknown function " + fname + "()"));
                v.trait(Trait.DYNAMIC_SQL);
            }
            return;
        }
        if (f.changesSettings() && mode != ScanMode.PLAN) {
            v.effect(new SessionEffect.UntrackedSetting("function " + fname + "() changes settings"));
        }
        switch (f.hazard()) {
            case NONE:
                if (mode != ScanMode.PLAN && ServerLocalObjects.isServerLocalFunction(schema, fname)) {
                    v.hazard(Severity.SERVER_LOCAL_READ, fname + "() answers for one server: the primary's", false);
                }
                return;
            case WRITE:
                v.hazard(Severity.WRITE, f.reason(), true);
                if (fname.equals("pg_notify")) {
                    v.trait(Trait.NOTIFY);
                }
                return;
            case SERVER_LOCAL:
                v.hazard(Severity.SERVER_LOCAL, f.reason(), false);
                return;
            case SESSION_DEPENDENT:
                v.hazard(Severity.SESSION_DEPENDENT, f.reason(), false);
                return;
            case DYNAMIC_SQL:
                v.hazard(Severity.DYNAMIC_SQL, f.reason(), false);
                return;
            case ADVISORY_LOCK:
                v.hazard(Severity.SERVER_LOCAL, f.reason(), false);
                v.effect(new SessionEffect.TakeAdvisoryLock());
                v.session = true;
                return;
            case ADVISORY_UNLOCK:
                v.hazard(Severity.SERVER_LOCAL, f.reason(), false);
                v.effect(new SessionEffect.ReleaseAdvisoryLocks(fname.equals("pg_advisory_unlock_all")));
                v.session = true;
                return;
            case ADVISORY_XACT_LOCK:
                v.hazard(Severity.SERVER_LOCAL, f.reason(), false);
                return;
            case SET_CONFIG:
                v.hazard(Severity.SET_CONFIG, "set_config() (session state; literal-dependent)", false);
                v.session = true;
                if (mode == ScanMode.BODY || !fname.equals("set_config")) {
                    v.effect(new SessionEffect.UntrackedSetting(fname + "() in a function body"));
                } else {
                    v.setConfigCalls.add(last);
                }
                return;
            case VOLATILE:
                v.hazard(Severity.VOLATILE, f.reason(), false);
                return;
            default:
                v.hazard(Severity.UNKNOWN, f.reason(), f.hazard().writes());
        }
    }

    /** Records a relation reference {@code [first, end)}; {@code scopes} may be null. */
    void relationRef(int first, int end, Verdict v, List<CteScopes.Cte> scopes, ScanMode mode) {
        int last = end - 1;
        String rname = name(last);
        String schema = last - 2 >= first ? name(last - 2) : null;
        if (schema == null && CteScopes.visible(scopes, rname, first)) {
            return;
        }
        if ("pg_temp".equals(schema)) {
            v.hazard(Severity.UNSAFE_RELATION, "temporary relation pg_temp." + rname, false);
            return;
        }
        if (mode == ScanMode.QUERY || mode == ScanMode.BODY) {
            if (ServerLocalObjects.isSessionObjectsView(schema, rname)) {
                v.trait(Trait.SESSION_OBJECTS_READ);
                v.hazard(Severity.SERVER_LOCAL_READ, rname + " shows the session's own objects", false);
            } else if (ServerLocalObjects.isServerLocalRelation(schema, rname)) {
                v.hazard(Severity.SERVER_LOCAL_READ, rname + " answers for one server: the primary's", false);
            }
        }
        RelationInfo r = catalog.relation(schema, rname);
        if (r == null) {
            v.hazard(Severity.UNKNOWN_RELATION, "unknown relation " + (schema == null ? "" : schema + ".") + rname
                    + functions.notLoaded(), false);
        } else if (r.hazard() != Hazard.NONE && (mode != ScanMode.PLAN || r.planHazard()) && mode != ScanMode.LOCK_ONLY) {
            v.hazard(Severity.UNSAFE_RELATION, r.reason(), false);
        }
    }

    void scan(int from, int to, Verdict v, ScanMode mode) {
        scan(from, to, v, mode, true);
    }

    /**
     * Scans tokens {@code [from, to)} for hazards.
     *
     * @param allowInto in BODY mode: PL/pgSQL's SELECT ... INTO variable
     */
    void scan(int from, int to, Verdict v, ScanMode mode, boolean allowInto) {
        boolean[] dead = deadCode.deadTokens(from, to);
        List<CteScopes.Cte> scopes = ctes.collect(from, to);
        for (CteScopes.Cte c : scopes) {
            notCall[c.visibleFrom()] = true;
        }
        int maxDepth = 1;
        for (int i = from; i < to; i++) {
            maxDepth = Math.max(maxDepth, depth[i] + 2);
        }
        int[] frame = new int[maxDepth + 1];
        int[] fromState = new int[maxDepth + 1];
        boolean[] handled = new boolean[to - from];
        for (int i = from; i < to; i++) {
            int kk = tb.kind[i];
            int d = depth[i];
            switch (kk) {
                case LPAREN: {
                    int fr;
                    if (isQueryStart(i + 1)) {
                        fr = FR_SUBQUERY;
                    } else if (fromState[d] == F_ITEM) {
                        fr = FR_FROMPAREN;
                    } else {
                        fr = FR_EXPR;
                    }
                    if (fromState[d] == F_ITEM) {
                        fromState[d] = F_AFTER;
                    }
                    frame[d + 1] = fr;
                    fromState[d + 1] = fr == FR_FROMPAREN ? F_ITEM : F_NONE;
                    if (mode != ScanMode.PLAN && (w(i + 1) != null && DML_WORDS.contains(w(i + 1))) && isDmlStart(i + 1)) {
                        v.hazard(Severity.WRITE, "data-modifying " + words[i + 1].toUpperCase(Locale.ROOT)
                                + " in WITH", true);
                    }
                    continue;
                }
                case LBRACKET:
                    frame[d + 1] = FR_EXPR;
                    fromState[d + 1] = F_NONE;
                    continue;
                case SEMI:
                    java.util.Arrays.fill(fromState, F_NONE);
                    continue;
                case COMMA:
                    if (fromState[d] == F_AFTER || fromState[d] == F_ON) {
                        fromState[d] = F_ITEM;
                    }
                    continue;
                case TYPECAST: {
                    int j = i + 1;
                    while (j < to && isAnyName(j)) {
                        int e = chainEnd(j);
                        for (int x = j; x < e; x++) {
                            notCall[x] = true;
                        }
                        j = e;
                        String nx = w(j);
                        if (!(nx != null && (nx.equals("varying") || nx.equals("precision") || nx.equals("with")
                                || nx.equals("without") || nx.equals("time") || nx.equals("zone")))) {
                            break;
                        }
                    }
                    continue;
                }
                case OP:
                    if (mode != ScanMode.PLAN) {
                        int s = tb.start[i];
                        int b = src[s];
                        if (b != '$' && b != '\\' && b >= 0) {
                            String sym = new String(src, s, tb.end[i] - s, StandardCharsets.US_ASCII);
                            FunctionInfo f = catalog.operator(sym);
                            if (f != null && f.hazard() != Hazard.NONE && !(mode == ScanMode.BODY && sym.equals("=>"))) {
                                v.hazard(f.hazard() == Hazard.UNKNOWN ? Severity.UNKNOWN : Severity.WRITE, f.reason(),
                                        f.hazard().writes());
                            }
                        }
                    }
                    continue;
                case IDENT:
                case QIDENT:
                    break;
                default:
                    continue;
            }
            String word = kk == IDENT ? words[i] : null;
            if (word != null) {
                if (word.equals("from") && frame[d] != FR_EXPR && !is(i - 1, "distinct")) {
                    fromState[d] = F_ITEM;
                    continue;
                }
                if (fromState[d] != F_NONE && CLAUSE_END.contains(word)) {
                    fromState[d] = F_NONE;
                }
                if (word.equals("join")) {
                    fromState[d] = F_ITEM;
                    continue;
                }
                if (word.equals("on") && (fromState[d] == F_AFTER)) {
                    fromState[d] = F_ON;
                    continue;
                }
                if (fromState[d] == F_ITEM && (word.equals("only") || word.equals("lateral"))) {
                    continue;
                }
                if (word.equals("tablesample")) {
                    if (isAnyName(i + 1)) {
                        notCall[chainEnd(i + 1) - 1] = true;
                    }
                    continue;
                }
                if ((word.equals("table") || word.equals("using")
                        || (word.equals("into") && (is(i - 1, "insert") || is(i - 1, "merge")))
                        || (word.equals("update") && isDmlStart(i)))
                        && (isNameTok(i + 1) || is(i + 1, "only"))) {
                    int j = is(i + 1, "only") ? i + 2 : i + 1;
                    if (isAnyName(j)) {
                        int e = chainEnd(j);
                        if (k(e) != LPAREN) {
                            relationRef(j, e, v, scopes, mode);
                            for (int x = j; x < e; x++) {
                                handled[x - from] = true;
                            }
                        }
                    }
                }
                if (mode != ScanMode.PLAN) {
                    if (word.equals("for")) {
                        String lock = null;
                        if (is(i + 1, "update")) {
                            lock = "FOR UPDATE";
                        } else if (is(i + 1, "share")) {
                            lock = "FOR SHARE";
                        } else if (is(i + 1, "no") && is(i + 2, "key") && is(i + 3, "update")) {
                            lock = "FOR NO KEY UPDATE";
                        } else if (is(i + 1, "key") && is(i + 2, "share")) {
                            lock = "FOR KEY SHARE";
                        }
                        if (lock != null) {
                            v.hazard(Severity.LOCKING, "SELECT ... " + lock, true);
                        }
                    }
                    if (word.equals("into") && !is(i - 1, "insert") && !is(i - 1, "merge")
                            && (mode == ScanMode.QUERY || !allowInto)) {
                        v.hazard(Severity.WRITE, "SELECT INTO (creates a table)", true);
                        if (is(i + 1, "temp") || is(i + 1, "temporary")
                                || ((is(i + 1, "local") || is(i + 1, "global")) && (is(i + 2, "temp")
                                || is(i + 2, "temporary")))) {
                            v.effect(new SessionEffect.CreateTemporaryObject());
                        }
                    }
                    if (mode == ScanMode.BODY && word.equals("create") && (is(i + 1, "temp") || is(i + 1, "temporary")
                            || ((is(i + 1, "local") || is(i + 1, "global")) && is(i + 2, "temp")))) {
                        v.effect(new SessionEffect.CreateTemporaryObject());
                    }
                    if (mode == ScanMode.BODY && word.equals("set") && (i == from || k(i - 1) == SEMI || is(i - 1, "begin")
                            || is(i - 1, "then") || is(i - 1, "else") || is(i - 1, "loop"))) {
                        v.hazard(Severity.SET_CONFIG, "SET in a function body (session state)", false);
                        v.effect(new SessionEffect.UntrackedSetting("SET in a function body"));
                    }
                    if (mode == ScanMode.BODY && BODY_FORBIDDEN.contains(word)) {
                        boolean writes = DML_WORDS.contains(word) || word.equals("truncate");
                        if (word.equals("execute")) {
                            v.hazard(Severity.DYNAMIC_SQL, "dynamic SQL (EXECUTE)", false);
                        } else {
                            v.hazard(writes ? Severity.WRITE : Severity.SERVER_LOCAL,
                                    word.toUpperCase(Locale.ROOT) + " in a function body", writes);
                        }
                    }
                }
            }
            if (handled[i - from]) {
                continue;
            }
            int e = chainEnd(i);
            if (fromState[d] == F_ITEM && (kk == QIDENT || isNameTok(i))) {
                fromState[d] = F_AFTER;
                if (k(e) != LPAREN) {
                    if (!(word != null && word.equals("rows") && is(i + 1, "from"))) {
                        relationRef(i, e, v, scopes, mode);
                    }
                    i = e - 1;
                    continue;
                }
            }
            if (k(e) == LPAREN && functions.isCall(i, e - 1, mode, fromState[d] == F_AFTER)) {
                if (!dead[e - 1 - from] || !DeadCode.skippableWhenDead(functions.lookup(i, e))) {
                    callHazard(i, e, v, mode);
                }
                i = e - 1;
                continue;
            }
            if (catalog.live() && mode != ScanMode.PLAN) {
                for (int x = i; x < e; x += 2) {
                    String nm = name(x);
                    if (!CteScopes.visible(scopes, nm, x) && !notCall[x] && catalog.isHazardousRelationName(nm)) {
                        v.hazard(Severity.SOFT, "name of unsafe relation " + nm, false);
                    }
                }
            }
            i = e - 1;
        }
    }

    /** Analyses a PL/pgSQL (or SQL) body: a hazard when it may write or is otherwise unsafe on a standby. */
    Verdict analyzeBody(String body, boolean plpgsql, boolean scs) {
        Verdict v = new Verdict();
        if (bodyNesting > 8) {
            v.hazard(Severity.UNKNOWN, "nested too deeply", false);
            return v;
        }
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        TokenBuffer inner = new TokenBuffer();
        SqlLexer.lex(bytes, 0, bytes.length, scs, inner);
        if (inner.incomplete()) {
            v.hazard(Severity.UNKNOWN, "body not understood", false);
            return v;
        }
        StatementAnalyzer a = new StatementAnalyzer(inner, catalog, overrides, bodyNesting + 1);
        if (!a.balanced) {
            v.hazard(Severity.UNKNOWN, "body not understood", false);
            return v;
        }
        a.scanner.scan(0, a.n, v, ScanMode.BODY, plpgsql);
        return v;
    }
}
