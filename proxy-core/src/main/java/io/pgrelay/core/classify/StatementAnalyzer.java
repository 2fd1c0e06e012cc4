package io.pgrelay.core.classify;

import io.pgrelay.core.classify.StatementInfo.Details;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import static io.pgrelay.core.classify.SqlLexer.COMMA;
import static io.pgrelay.core.classify.SqlLexer.DOT;
import static io.pgrelay.core.classify.SqlLexer.IDENT;
import static io.pgrelay.core.classify.SqlLexer.LBRACKET;
import static io.pgrelay.core.classify.SqlLexer.LPAREN;
import static io.pgrelay.core.classify.SqlLexer.NUMBER;
import static io.pgrelay.core.classify.SqlLexer.OP;
import static io.pgrelay.core.classify.SqlLexer.QIDENT;
import static io.pgrelay.core.classify.SqlLexer.RBRACKET;
import static io.pgrelay.core.classify.SqlLexer.RPAREN;
import static io.pgrelay.core.classify.SqlLexer.SEMI;
import static io.pgrelay.core.classify.SqlLexer.STRING;
import static io.pgrelay.core.classify.SqlLexer.TYPECAST;

/**
 * Token-based, structure-aware analysis of a query string: the authority for routing safety.
 *
 * <p>Each statement is decided from its first keyword(s) and a scan of its whole token stream with
 * parenthesis depth: locking clauses anywhere, data-modifying statements inside parentheses (CTEs),
 * {@code SELECT INTO}, every function call (an identifier chain followed by {@code (}, looked up in
 * the {@link Catalog}), every relation in a FROM/JOIN/TABLE position (unlogged tables, unsafe views,
 * unknown relations), user-defined operators. Everything that is not a read candidate is decided by
 * statement type. Keywords used as names ({@code WITH update AS (...)}, {@code SELECT 2 AS truncate})
 * and text in strings or comments never change the decision, because the scan is positional and the
 * lexer has already separated strings and comments from code.
 *
 * <p><b>Literal blindness.</b> The decision never depends on the value of a literal (string of any
 * kind, number) or a parameter: statements with the same {@link Fingerprint} get the same route,
 * kind and effects. Where a value would decide (the mode of {@code lo_open(x, 262144)}, the text
 * passed to {@code exec_sql('...')}, {@code LIMIT 0}, {@code EXPLAIN (ANALYZE 0)}, the name given
 * to {@code set_config()}), the analysis decides conservatively for every value. The keywords
 * {@code TRUE}, {@code FALSE} and {@code NULL} are part of the fingerprint, so constant-false code
 * ({@code WHERE false}, {@code CASE WHEN false THEN ...}) may be recognised as never executed. The
 * string bodies of {@code DO} are code and are part of the fingerprint too.
 *
 * <p>Not thread-safe; one instance per analysis (a cache miss).
 */
final class StatementAnalyzer extends TokenView {
    static final int SEV_SOFT = 10;
    static final int SEV_SET_CONFIG = 30;
    static final int SEV_UNKNOWN_REL = 40;
    static final int SEV_UNKNOWN = 50;
    static final int SEV_VOLATILE = 60;
    static final int SEV_SESSION_DEP = 70;
    static final int SEV_UNSAFE_REL = 75;
    static final int SEV_SERVER_LOCAL = 80;
    static final int SEV_DYNAMIC = 85;
    static final int SEV_LOCKING = 90;
    static final int SEV_WRITE = 100;

    /** Scan modes. */
    static final int QUERY = 0;
    /** A PL/pgSQL or SQL function body / DO block. */
    static final int BODY = 1;
    /** Plain EXPLAIN: only what planning touches (relations, user functions that might be pre-evaluated). */
    static final int PLAN = 2;
    /** LOCK: only whether the relation exists matters (locking touches no storage). */
    private static final int LOCK_ONLY = 3;

    private static final int F_NONE = 0;
    private static final int F_ITEM = 1;
    private static final int F_AFTER = 2;
    private static final int F_ON = 3;

    private static final int FR_TOP = 0;
    private static final int FR_SUBQUERY = 1;
    private static final int FR_FROMPAREN = 2;
    private static final int FR_EXPR = 3;

    private static final Set<String> CLAUSE_END = Set.of("where", "group", "having", "window", "order", "limit",
            "offset", "fetch", "for", "union", "intersect", "except", "returning", "into", "set", "when", "loop",
            "select", "values", "then", "do");
    /** Unreserved keywords that are followed by '(' in syntax that is not a function call. */
    private static final Set<String> SYNTAX_WORDS = Set.of("over", "filter", "sets", "rollup", "cube", "materialized",
            "ordinality", "columns", "passing", "repeatable", "partition", "range", "rows", "groups", "exclude",
            "within", "nulls", "first", "last", "search", "cycle", "depth", "breadth", "options", "key", "operator",
            "preceding", "following", "current", "unbounded", "no", "of", "nowait", "skip", "locked", "share",
            "zone", "at", "recursive", "include", "by", "returns", "language", "set", "value", "format", "analyze",
            "analyse", "verbose", "costs", "buffers", "timing", "summary", "settings", "wal", "and", "or", "not");
    /** PL/pgSQL statement words that may be followed by '('. */
    private static final Set<String> PLPGSQL_WORDS = Set.of("if", "elsif", "elseif", "while", "loop", "return",
            "raise", "exit", "continue", "foreach", "assert", "perform", "get", "open", "fetch", "move", "close",
            "query", "strict", "reverse", "slice", "next", "constant", "alias", "begin", "declare", "exception",
            "case", "when", "then", "else", "end", "using", "in", "for", "into", "diagnostics", "notice", "info",
            "warning", "debug", "log", "found", "sqlstate", "sqlerrm", "others", "return_next");
    /** Statements (and clauses) that make a function/DO body unsafe on a standby. */
    private static final Set<String> BODY_FORBIDDEN = Set.of("insert", "update", "delete", "merge", "truncate",
            "create", "alter", "drop", "grant", "revoke", "comment", "copy", "lock", "listen", "notify", "unlisten",
            "vacuum", "analyze", "analyse", "cluster", "reindex", "refresh", "security", "import", "reassign",
            "checkpoint", "load", "discard", "prepare", "deallocate", "execute", "reset", "commit", "rollback",
            "savepoint", "release");
    private static final Set<String> DML_WORDS = Set.of("insert", "update", "delete", "merge");
    private static final Set<String> TX_PRIMARY_SETTINGS = Set.of("transaction_read_only",
            "default_transaction_read_only", "transaction_isolation", "default_transaction_isolation");

    private final Catalog catalog;
    private final FunctionOverrides overrides;
    private final int bodyNesting;

    StatementAnalyzer(TokenBuffer tb, Catalog catalog, FunctionOverrides overrides) {
        this(tb, catalog, overrides, 0);
    }

    private StatementAnalyzer(TokenBuffer tb, Catalog catalog, FunctionOverrides overrides, int bodyNesting) {
        super(tb);
        this.catalog = catalog;
        this.overrides = overrides == null ? FunctionOverrides.NONE : overrides;
        this.bodyNesting = bodyNesting;
    }

    // ------------------------------------------------------------------ results

    /** Hazards found while scanning: the strongest decides the route. */
    static final class Verdict {
        int severity;
        String reason;
        boolean write;
        boolean session;
        int effects;
        boolean softOnly = true;
        final List<Integer> setConfigCalls = new ArrayList<>();

        void hazard(int sev, String why, boolean writes) {
            if (sev == SEV_UNKNOWN_REL || sev == SEV_UNKNOWN && why.startsWith("unknown ")) {
                effects |= Effects.UNKNOWN_NAME;
            }
            if (sev > severity) {
                severity = sev;
                reason = why;
            }
            if (sev > SEV_SOFT) {
                softOnly = false;
            }
            write |= writes;
        }

        boolean primary() {
            return severity > 0;
        }

        void absorb(Verdict o) {
            hazard(o.severity, o.reason, o.write);
            softOnly &= o.softOnly || o.severity == 0;
            session |= o.session;
            effects |= o.effects;
        }
    }

    /** One analysed statement. */
    static final class Stmt {
        int from;
        int to;
        Route route = Route.PRIMARY;
        StatementKind kind = StatementKind.OTHER;
        String reason = "";
        int effects;
        boolean softOnly;
        boolean softTxnStart;
        boolean closesTxn;
        String command = "";
        Details details;
        String declareName;
        String prepareName;
        String executeName;
        String cursorRef;
        List<Integer> setConfigCalls = List.of();

        Classification classification() {
            return new Classification(route, kind, reason, effects, 1);
        }
    }

    // ------------------------------------------------------------------ statements

    /** Splits the token stream into statements and analyses each (empty statements are skipped). */
    List<Stmt> analyzeAll() {
        List<Stmt> out = new ArrayList<>();
        int start = 0;
        boolean atomic = false;
        int caseLevel = 0;
        for (int i = 0; i <= n; i++) {
            if (i < n) {
                int kk = tb.kind[i];
                if (kk == IDENT && depth[i] == 0 && start < n && is(start, "create")) {
                    String ww = words[i];
                    if (ww.equals("atomic") && is(i - 1, "begin")) {
                        atomic = true;
                        caseLevel = 0;
                    } else if (atomic && ww.equals("case")) {
                        caseLevel++;
                    } else if (atomic && ww.equals("end")) {
                        if (caseLevel > 0) {
                            caseLevel--;
                        } else {
                            atomic = false;
                        }
                    }
                }
                if (kk != SEMI || depth[i] != 0 || atomic) {
                    continue;
                }
            }
            if (i > start) {
                out.add(statement(start, i));
            }
            start = i + 1;
            atomic = false;
        }
        return out;
    }

    Stmt statement(int from, int to) {
        Stmt s = new Stmt();
        s.from = from;
        s.to = to;
        if (!balanced) {
            s.reason = "unbalanced parentheses";
            s.command = command(from, to, 1);
            return s;
        }
        if (k(from) == LPAREN) {
            s.command = "SELECT";
            query(s, from, to);
            return s;
        }
        String w0 = w(from);
        if (w0 == null) {
            s.reason = "unknown statement";
            return s;
        }
        s.command = w0.toUpperCase(Locale.ROOT);
        switch (w0) {
            case "select": case "values": case "table": case "with":
                query(s, from, to);
                return s;
            case "insert": case "update": case "delete":
                write(s, s.command);
                return s;
            case "merge":
                merge(s, from, to);
                return s;
            case "truncate":
                write(s, "TRUNCATE");
                return s;
            case "explain":
                explain(s, from, to);
                return s;
            case "show":
                show(s, from, to);
                return s;
            case "set":
                set(s, from, to);
                return s;
            case "reset":
                reset(s, from, to);
                return s;
            case "begin": case "start":
                begin(s, from, to);
                return s;
            case "commit": case "end": case "rollback": case "abort":
                commitRollback(s, from, to);
                return s;
            case "savepoint": case "release":
                s.kind = StatementKind.TRANSACTION;
                s.route = Route.REPLICA;
                s.effects = Effects.SAVEPOINT;
                s.reason = s.command;
                return s;
            case "prepare":
                prepare(s, from, to);
                return s;
            case "execute":
                execute(s, from, to);
                return s;
            case "deallocate":
                deallocate(s, from, to);
                return s;
            case "declare":
                declare(s, from, to);
                return s;
            case "fetch": case "move":
                fetch(s, from, to);
                return s;
            case "close":
                close(s, from, to);
                return s;
            case "listen": case "unlisten":
                listen(s, from, to);
                return s;
            case "notify":
                s.kind = StatementKind.WRITE;
                s.effects = Effects.NOTIFY;
                s.reason = "NOTIFY";
                return s;
            case "discard":
                discard(s, from, to);
                return s;
            case "lock":
                lock(s, from, to);
                return s;
            case "copy":
                copy(s, from, to);
                return s;
            case "call":
                call(s, from, to);
                return s;
            case "do":
                doBlock(s, from, to);
                return s;
            case "create":
                create(s, from, to);
                s.effects |= Effects.DDL;
                return s;
            case "alter":
                s.effects |= Effects.DDL;
                s.command = command(from, to, 2);
                if (is(from + 1, "system")) {
                    s.kind = StatementKind.OTHER;
                    s.reason = "ALTER SYSTEM (server-local)";
                } else {
                    write(s, s.command);
                }
                return s;
            case "drop": case "comment": case "grant": case "revoke": case "security": case "reassign":
            case "import": case "refresh": case "vacuum": case "analyze": case "analyse": case "cluster":
            case "reindex":
                if (w0.equals("drop") || w0.equals("import")) {
                    s.effects |= Effects.DDL;
                }
                s.command = command(from, to, w0.equals("comment") || w0.equals("grant") || w0.equals("revoke")
                        || w0.equals("vacuum") || w0.equals("analyze") || w0.equals("cluster") ? 1 : 2);
                write(s, s.command);
                return s;
            case "checkpoint":
                s.reason = "CHECKPOINT (server-local)";
                return s;
            case "load":
                s.kind = StatementKind.SESSION;
                s.reason = "LOAD (server-local)";
                return s;
            default:
                s.reason = "unknown statement " + s.command;
                return s;
        }
    }

    private String command(int from, int to, int count) {
        StringBuilder sb = new StringBuilder();
        for (int i = from; i < to && i < from + count; i++) {
            if (w(i) == null) {
                break;
            }
            if (sb.length() > 0) {
                sb.append(' ');
            }
            sb.append(words[i].toUpperCase(Locale.ROOT));
        }
        return sb.toString();
    }

    private void write(Stmt s, String what) {
        s.kind = StatementKind.WRITE;
        s.route = Route.PRIMARY;
        s.reason = what;
    }

    private void applyVerdict(Stmt s, Verdict v, StatementKind readKind, String readReason) {
        s.route = v.primary() ? Route.PRIMARY : Route.REPLICA;
        s.kind = v.write ? StatementKind.WRITE : v.session ? StatementKind.SESSION : readKind;
        s.reason = v.primary() ? v.reason : readReason;
        s.effects |= v.effects;
        s.softOnly = v.primary() && v.softOnly;
        s.setConfigCalls = v.setConfigCalls;
    }

    private void query(Stmt s, int from, int to) {
        Verdict v = new Verdict();
        if (is(from, "with")) {
            int main = cteList(from + 1, to, null);
            if (main < 0) {
                v.hazard(SEV_UNKNOWN, "WITH clause not understood", false);
            } else if ((w(main) != null && DML_WORDS.contains(w(main)))) {
                v.hazard(SEV_WRITE, "data-modifying statement " + words[main].toUpperCase(Locale.ROOT)
                        + " with WITH", true);
            }
        }
        scan(from, to, v, QUERY);
        applyVerdict(s, v, StatementKind.READ, "read-only " + s.command);
    }

    private void merge(Stmt s, int from, int to) {
        int thens = 0;
        boolean allNothing = true;
        for (int i = from; i < to; i++) {
            if (depth[i] == 0 && is(i, "then")) {
                thens++;
                if (!(is(i + 1, "do") && is(i + 2, "nothing"))) {
                    allNothing = false;
                }
            }
        }
        if (thens == 0 || !allNothing) {
            write(s, "MERGE");
            return;
        }
        Verdict v = new Verdict();
        scan(from, to, v, QUERY);
        applyVerdict(s, v, StatementKind.READ, "MERGE whose every action is DO NOTHING");
    }

    private void explain(Stmt s, int from, int to) {
        int i = from + 1;
        boolean analyze = false;
        if (is(i, "analyze") || is(i, "analyse")) {
            analyze = true;
            i++;
        }
        if (is(i, "verbose")) {
            i++;
        }
        if (k(i) == LPAREN) {
            int close = match[i];
            int j = i + 1;
            while (j < close) {
                String opt = w(j);
                int itemEnd = j;
                while (itemEnd < close && !(k(itemEnd) == COMMA && depth[itemEnd] == depth[i] + 1)) {
                    itemEnd++;
                }
                if ("analyze".equals(opt) || "analyse".equals(opt)) {
                    if (itemEnd == j + 1) {
                        analyze = true;
                    } else {
                        String val = w(j + 1);
                        if (val == null) {
                            analyze = true; // a literal value (ANALYZE 1 / ANALYZE '0'): literal-blind, assume on
                        } else {
                            analyze = !(val.equals("false") || val.equals("off") || val.equals("no"));
                        }
                    }
                }
                j = itemEnd + 1;
            }
            i = close + 1;
        }
        if (i >= to) {
            s.kind = StatementKind.READ;
            s.route = Route.REPLICA;
            s.reason = "EXPLAIN";
            return;
        }
        Stmt inner = statement(i, to);
        s.effects = inner.effects & (Effects.EXECUTE | Effects.TEMP_OBJECT | Effects.UNKNOWN_NAME);
        if (inner.executeName != null) {
            // EXPLAIN [ANALYZE] EXECUTE name: as session-dependent as EXECUTE itself
            s.executeName = inner.executeName;
            s.details = inner.details;
        }
        if (analyze) {
            s.command = "EXPLAIN ANALYZE";
            s.route = inner.route;
            s.kind = inner.kind == StatementKind.WRITE ? StatementKind.WRITE : StatementKind.READ;
            s.reason = "EXPLAIN ANALYZE " + (inner.route == Route.PRIMARY ? "of " + inner.reason : inner.command);
            s.softOnly = inner.softOnly;
            if (is(i, "execute")) {
                s.route = Route.PRIMARY;
                s.reason = "EXPLAIN ANALYZE EXECUTE (session-dependent)";
            }
            return;
        }
        s.kind = StatementKind.READ;
        String w0 = w(i);
        if ("create".equals(w0)) {
            for (int j = i + 1; j < to; j++) {
                if (is(j, "as") && depth[j] == 0 && isQueryStart(j + 1)) {
                    Verdict v = new Verdict();
                    scan(j + 1, to, v, PLAN);
                    applyVerdict(s, v, StatementKind.READ, "EXPLAIN without ANALYZE");
                    s.kind = StatementKind.READ;
                    return;
                }
            }
        }
        if (w0 == null || !(w0.equals("select") || w0.equals("values") || w0.equals("table") || w0.equals("with")
                || w0.equals("insert") || w0.equals("update") || w0.equals("delete") || w0.equals("merge"))) {
            if (k(i) != LPAREN) {
                s.route = Route.PRIMARY;
                s.reason = "EXPLAIN " + inner.command + (is(i, "execute") ? " (session-dependent)" : "");
                return;
            }
        }
        Verdict v = new Verdict();
        scan(i, to, v, PLAN);
        applyVerdict(s, v, StatementKind.READ, "EXPLAIN without ANALYZE");
        s.kind = StatementKind.READ;
    }

    private void show(Stmt s, int from, int to) {
        s.kind = StatementKind.READ;
        s.route = Route.REPLICA;
        s.reason = "SHOW";
        int e = from + 1 < to ? chainEnd(from + 1) : from + 1;
        if (from + 1 < to && isAnyName(from + 1)) {
            String name = qualifiedText(from + 1, e);
            if (name.startsWith("pgrelay.")) {
                s.effects = Effects.PGRELAY_SETTING;
                s.kind = StatementKind.SESSION;
                s.reason = "pgrelay setting";
                s.details = new StatementInfo.PgRelaySettingDetails("show", name, null);
            }
        }
    }

    private String qualifiedText(int from, int to) {
        StringBuilder sb = new StringBuilder();
        for (int i = from; i < to; i++) {
            if (k(i) == DOT) {
                sb.append('.');
            } else {
                sb.append(name(i));
            }
        }
        return sb.toString();
    }

    private void set(Stmt s, int from, int to) {
        s.kind = StatementKind.SESSION;
        s.route = Route.REPLICA;
        s.reason = "SET";
        int i = from + 1;
        boolean local = false;
        if (is(i, "local")) {
            local = true;
            i++;
        } else if (is(i, "session") && !is(i + 1, "authorization") && !is(i + 1, "characteristics")) {
            i++;
        }
        if (is(i, "transaction") || (is(i, "session") && is(i + 1, "characteristics"))) {
            boolean characteristics = is(i, "session");
            s.command = characteristics ? "SET SESSION CHARACTERISTICS" : "SET TRANSACTION";
            s.kind = StatementKind.TRANSACTION;
            s.effects = Effects.SET_TRANSACTION;
            int j = characteristics ? i + 4 : i + 1;
            if (is(i + 1, "snapshot")) {
                s.route = Route.PRIMARY;
                s.reason = "SET TRANSACTION SNAPSHOT (session-dependent)";
                return;
            }
            StatementInfo.BeginDetails d = transactionModes(j, to, true, characteristics);
            s.details = d;
            if (characteristics) {
                s.route = Route.PRIMARY;
                s.reason = "SET SESSION CHARACTERISTICS AS TRANSACTION";
            } else if (Boolean.FALSE.equals(d.readOnly()) || "serializable".equals(d.isolation())) {
                s.route = Route.PRIMARY;
                s.reason = Boolean.FALSE.equals(d.readOnly()) ? "SET TRANSACTION READ WRITE"
                        : "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE";
            } else {
                s.reason = "SET TRANSACTION";
            }
            return;
        }
        if (is(i, "constraints")) {
            s.command = "SET CONSTRAINTS";
            s.kind = StatementKind.TRANSACTION;
            s.reason = "SET CONSTRAINTS";
            return;
        }
        String name;
        int valueStart;
        if (is(i, "time") && is(i + 1, "zone")) {
            name = "timezone";
            valueStart = i + 2;
        } else if (is(i, "session") && is(i + 1, "authorization")) {
            name = "session_authorization";
            valueStart = i + 2;
        } else if (is(i, "role")) {
            name = "role";
            valueStart = i + 1;
        } else if (is(i, "names")) {
            name = "client_encoding";
            valueStart = i + 1;
        } else if (is(i, "schema")) {
            name = "search_path";
            valueStart = i + 1;
        } else if (is(i, "xml") && is(i + 1, "option")) {
            name = "xmloption";
            valueStart = i + 2;
        } else if (isAnyName(i)) {
            int e = chainEnd(i);
            name = qualifiedText(i, e);
            valueStart = e;
            if (is(valueStart, "to") || (k(valueStart) == OP && tb.end[valueStart] - tb.start[valueStart] == 1
                    && src[tb.start[valueStart]] == '=')) {
                valueStart++;
            }
        } else {
            s.route = Route.PRIMARY;
            s.reason = "SET not understood";
            s.effects = Effects.SET;
            return;
        }
        String value = text(valueStart, to);
        if (name.startsWith("pgrelay.")) {
            s.effects = Effects.PGRELAY_SETTING;
            s.reason = "pgrelay setting";
            String literal = valueStart + 1 == to ? stringValue(valueStart) : null;
            s.details = new StatementInfo.PgRelaySettingDetails("set", name, literal != null ? literal : value);
            return;
        }
        s.effects = Effects.SET;
        s.details = new StatementInfo.SetDetails(name, value, local, false, false);
        if (TX_PRIMARY_SETTINGS.contains(name)) {
            s.route = Route.PRIMARY;
            s.reason = "SET " + name + " (not settable on a standby for every value)";
        }
    }

    private void reset(Stmt s, int from, int to) {
        s.kind = StatementKind.SESSION;
        s.route = Route.REPLICA;
        s.reason = "RESET";
        int i = from + 1;
        String name;
        if (is(i, "all")) {
            s.effects = Effects.SET;
            s.details = new StatementInfo.SetDetails(null, null, false, true, true);
            s.command = "RESET ALL";
            return;
        } else if (is(i, "time") && is(i + 1, "zone")) {
            name = "timezone";
        } else if (is(i, "session") && is(i + 1, "authorization")) {
            name = "session_authorization";
        } else if (is(i, "transaction") && is(i + 1, "isolation")) {
            name = "transaction_isolation";
        } else if (isAnyName(i)) {
            name = qualifiedText(i, chainEnd(i));
        } else {
            s.route = Route.PRIMARY;
            s.reason = "RESET not understood";
            s.effects = Effects.SET;
            return;
        }
        if (name.startsWith("pgrelay.")) {
            s.effects = Effects.PGRELAY_SETTING;
            s.reason = "pgrelay setting";
            s.details = new StatementInfo.PgRelaySettingDetails("reset", name, null);
            return;
        }
        s.effects = Effects.SET;
        s.details = new StatementInfo.SetDetails(name, null, false, true, false);
        if (TX_PRIMARY_SETTINGS.contains(name)) {
            s.route = Route.PRIMARY;
            s.reason = "RESET " + name;
        }
    }

    private StatementInfo.BeginDetails transactionModes(int i, int to, boolean setTransaction,
            boolean characteristics) {
        Boolean readOnly = null;
        Boolean deferrable = null;
        String isolation = null;
        while (i < to) {
            if (k(i) == COMMA) {
                i++;
            } else if (is(i, "isolation") && is(i + 1, "level")) {
                if (is(i + 2, "serializable")) {
                    isolation = "serializable";
                    i += 3;
                } else if (is(i + 2, "repeatable") && is(i + 3, "read")) {
                    isolation = "repeatable read";
                    i += 4;
                } else if (is(i + 2, "read") && is(i + 3, "committed")) {
                    isolation = "read committed";
                    i += 4;
                } else if (is(i + 2, "read") && is(i + 3, "uncommitted")) {
                    isolation = "read uncommitted";
                    i += 4;
                } else {
                    isolation = "unknown";
                    i += 3;
                }
            } else if (is(i, "read") && is(i + 1, "only")) {
                readOnly = Boolean.TRUE;
                i += 2;
            } else if (is(i, "read") && is(i + 1, "write")) {
                readOnly = Boolean.FALSE;
                i += 2;
            } else if (is(i, "not") && is(i + 1, "deferrable")) {
                deferrable = Boolean.FALSE;
                i += 2;
            } else if (is(i, "deferrable")) {
                deferrable = Boolean.TRUE;
                i++;
            } else {
                // unknown mode: be conservative
                readOnly = Boolean.FALSE;
                i++;
            }
        }
        return new StatementInfo.BeginDetails(readOnly, isolation, deferrable, setTransaction, characteristics);
    }

    private void begin(Stmt s, int from, int to) {
        int i = from + 1;
        if (is(from, "start")) {
            if (!is(i, "transaction")) {
                s.reason = "unknown statement START";
                return;
            }
            s.command = "START TRANSACTION";
            i++;
        } else if (is(i, "work") || is(i, "transaction")) {
            i++;
        }
        s.kind = StatementKind.TRANSACTION;
        StatementInfo.BeginDetails d = transactionModes(i, to, false, false);
        s.details = d;
        s.effects = Effects.BEGIN | (Boolean.TRUE.equals(d.readOnly()) ? Effects.BEGIN_READ_ONLY : 0);
        boolean serializable = "serializable".equals(d.isolation()) || "unknown".equals(d.isolation());
        if (Boolean.TRUE.equals(d.readOnly()) && !serializable) {
            s.route = Route.REPLICA;
            s.reason = "read-only transaction start";
        } else {
            s.route = Route.PRIMARY;
            s.reason = serializable ? "SERIALIZABLE transaction (refused on a standby)"
                    : Boolean.FALSE.equals(d.readOnly()) ? "READ WRITE transaction start" : "read-write transaction start";
            s.softTxnStart = d.readOnly() == null && !serializable;
        }
    }

    private void commitRollback(Stmt s, int from, int to) {
        s.kind = StatementKind.TRANSACTION;
        s.route = Route.REPLICA;
        boolean rollback = is(from, "rollback") || is(from, "abort");
        if (is(from + 1, "prepared")) {
            s.command = s.command + " PREPARED";
            s.route = Route.PRIMARY;
            s.reason = s.command + " (two-phase commit)";
            return;
        }
        int i = from + 1;
        if (is(i, "work") || is(i, "transaction")) {
            i++;
        }
        if (rollback && is(i, "to")) {
            s.command = "ROLLBACK TO";
            s.effects = Effects.SAVEPOINT;
            s.reason = "ROLLBACK TO SAVEPOINT";
            return;
        }
        s.effects = Effects.COMMIT_ROLLBACK;
        s.reason = rollback ? "ROLLBACK" : "COMMIT";
        boolean chain = false;
        for (int j = i; j < to; j++) {
            if (is(j, "chain") && !is(j - 1, "no")) {
                chain = true;
            }
        }
        s.closesTxn = !chain;
    }

    private void prepare(Stmt s, int from, int to) {
        if (is(from + 1, "transaction")) {
            s.command = "PREPARE TRANSACTION";
            s.kind = StatementKind.TRANSACTION;
            s.route = Route.PRIMARY;
            s.reason = "PREPARE TRANSACTION (two-phase commit)";
            return;
        }
        s.kind = StatementKind.SESSION;
        s.effects = Effects.PREPARE;
        if (!isAnyName(from + 1)) {
            s.reason = "PREPARE not understood";
            return;
        }
        String pname = name(from + 1);
        int i = from + 2;
        if (k(i) == LPAREN) {
            i = match[i] + 1;
        }
        if (!is(i, "as") || i + 1 >= to) {
            s.reason = "PREPARE not understood";
            return;
        }
        Stmt inner = statement(i + 1, to);
        s.route = inner.route;
        s.softOnly = inner.softOnly;
        s.reason = "PREPARE of " + (inner.route == Route.PRIMARY ? inner.reason : inner.command);
        s.prepareName = pname;
        s.effects |= inner.effects & (Effects.TEMP_OBJECT | Effects.UNKNOWN_NAME);
        s.details = new StatementInfo.PrepareDetails(pname, text(i + 1, to), inner.classification());
    }

    private void execute(Stmt s, int from, int to) {
        s.kind = StatementKind.SESSION;
        s.route = Route.PRIMARY;
        s.effects = Effects.EXECUTE;
        s.reason = "EXECUTE (session-dependent)";
        if (isAnyName(from + 1)) {
            s.executeName = name(from + 1);
            s.details = new StatementInfo.ExecuteDetails(s.executeName);
            Verdict v = new Verdict();
            if (from + 2 < to) {
                scan(from + 2, to, v, QUERY);
            }
            if (v.primary()) {
                s.executeName = null; // the arguments alone force the primary
                s.reason = "EXECUTE with " + v.reason;
            }
        }
    }

    private void deallocate(Stmt s, int from, int to) {
        s.kind = StatementKind.SESSION;
        s.route = Route.REPLICA;
        s.effects = Effects.DEALLOCATE;
        s.reason = "DEALLOCATE";
        int i = from + 1;
        if (is(i, "prepare")) {
            i++;
        }
        s.details = new StatementInfo.DeallocateDetails(is(i, "all") || i >= to ? null : isAnyName(i) ? name(i) : null);
    }

    private void declare(Stmt s, int from, int to) {
        s.kind = StatementKind.SESSION;
        s.effects = Effects.DECLARE_CURSOR;
        if (!isAnyName(from + 1)) {
            s.reason = "DECLARE not understood";
            return;
        }
        String cname = name(from + 1);
        int i = from + 2;
        boolean hold = false;
        int forAt = -1;
        for (; i < to; i++) {
            if (is(i, "with") && is(i + 1, "hold")) {
                hold = true;
            }
            if (is(i, "for") && depth[i] == 0) {
                forAt = i;
                break;
            }
        }
        if (forAt < 0 || forAt + 1 >= to) {
            s.reason = "DECLARE not understood";
            return;
        }
        Stmt q = statement(forAt + 1, to);
        s.declareName = cname;
        s.effects |= q.effects & Effects.UNKNOWN_NAME;
        s.route = q.route;
        s.softOnly = q.softOnly;
        s.reason = "DECLARE CURSOR for " + (q.route == Route.PRIMARY ? q.reason : q.command);
        if (q.kind == StatementKind.WRITE) {
            s.kind = StatementKind.WRITE;
        }
        if (hold) {
            s.effects |= Effects.DECLARE_WITH_HOLD;
            s.route = Route.PRIMARY;
            s.softOnly = false;
            s.reason = "DECLARE ... WITH HOLD (outlives the transaction)";
        }
        s.details = new StatementInfo.DeclareDetails(cname, hold, q.classification());
    }

    private void fetch(Stmt s, int from, int to) {
        s.kind = StatementKind.SESSION;
        s.route = Route.PRIMARY;
        s.effects = Effects.FETCH;
        s.reason = s.command + " (session-dependent: the cursor's node)";
        int last = to - 1;
        if (isAnyName(last) && last > from) {
            s.cursorRef = name(last);
            s.details = new StatementInfo.FetchDetails(s.cursorRef, is(from, "move"));
        }
    }

    private void close(Stmt s, int from, int to) {
        s.kind = StatementKind.SESSION;
        s.route = Route.PRIMARY;
        s.effects = Effects.CLOSE_CURSOR;
        s.reason = "CLOSE (session-dependent)";
        if (is(from + 1, "all")) {
            s.details = new StatementInfo.CloseDetails(null);
        } else if (isAnyName(from + 1)) {
            s.cursorRef = name(from + 1);
            s.details = new StatementInfo.CloseDetails(s.cursorRef);
        }
    }

    private void listen(Stmt s, int from, int to) {
        boolean listen = is(from, "listen");
        s.kind = StatementKind.SESSION;
        s.route = Route.PRIMARY;
        s.effects = listen ? Effects.LISTEN : Effects.UNLISTEN;
        s.reason = listen ? "LISTEN (pins the session)" : "UNLISTEN";
        String channel = isAnyName(from + 1) ? name(from + 1)
                : (k(from + 1) == OP && tb.end[from + 1] - tb.start[from + 1] == 1 && src[tb.start[from + 1]] == '*')
                ? "*" : null;
        s.details = new StatementInfo.ListenDetails(channel, listen);
    }

    private void discard(Stmt s, int from, int to) {
        s.kind = StatementKind.SESSION;
        s.route = Route.REPLICA;
        s.effects = Effects.DISCARD;
        s.reason = "DISCARD";
        String what = w(from + 1);
        if ("temporary".equals(what)) {
            what = "temp";
        }
        s.details = new StatementInfo.DiscardDetails(what);
        s.command = command(from, to, 2);
    }

    private void lock(Stmt s, int from, int to) {
        s.effects = Effects.LOCK;
        int i = from + 1;
        if (is(i, "table")) {
            i++;
        }
        int in = -1;
        for (int j = i; j < to; j++) {
            if (is(j, "in") && depth[j] == 0) {
                in = j;
                break;
            }
        }
        String mode = "access exclusive";
        if (in > 0) {
            StringBuilder sb = new StringBuilder();
            for (int j = in + 1; j < to && !is(j, "mode"); j++) {
                if (sb.length() > 0) {
                    sb.append(' ');
                }
                sb.append(w(j));
            }
            mode = sb.toString();
        }
        boolean weak = mode.equals("access share") || mode.equals("row share") || mode.equals("row exclusive");
        if (!weak) {
            s.kind = StatementKind.WRITE;
            s.route = Route.PRIMARY;
            s.reason = "LOCK " + mode.toUpperCase(Locale.ROOT) + " (stronger than ROW EXCLUSIVE)";
            return;
        }
        Verdict v = new Verdict();
        int end = in > 0 ? in : to;
        for (int j = i; j < end; j++) {
            if (is(j, "only")) {
                continue;
            }
            if (isAnyName(j)) {
                int e = chainEnd(j);
                relationRef(j, e, v, null, LOCK_ONLY);
                j = e - 1;
            }
        }
        applyVerdict(s, v, StatementKind.READ, "LOCK " + mode.toUpperCase(Locale.ROOT));
    }

    private void copy(Stmt s, int from, int to) {
        int i = from + 1;
        if (is(i, "binary")) {
            i++;
        }
        Verdict v = new Verdict();
        Stmt inner = null;
        if (k(i) == LPAREN) {
            inner = statement(i + 1, match[i]);
            i = match[i] + 1;
        } else if (isAnyName(i)) {
            int e = chainEnd(i);
            relationRef(i, e, v, null, QUERY);
            i = e;
            if (k(i) == LPAREN) {
                i = match[i] + 1;
            }
        } else {
            s.reason = "COPY not understood";
            return;
        }
        if (is(i, "from")) {
            s.kind = StatementKind.WRITE;
            s.route = Route.PRIMARY;
            s.reason = "COPY FROM";
            if (is(i + 1, "stdin")) {
                s.effects = Effects.COPY_FROM_STDIN;
            }
            return;
        }
        if (!is(i, "to")) {
            s.reason = "COPY not understood";
            return;
        }
        if (!is(i + 1, "stdout")) {
            s.kind = StatementKind.READ;
            s.route = Route.PRIMARY;
            s.reason = "COPY TO a server file or program (server-local)";
            return;
        }
        s.effects = Effects.COPY_TO_STDOUT;
        if (inner != null) {
            s.route = inner.route;
            s.kind = inner.kind == StatementKind.WRITE ? StatementKind.WRITE : StatementKind.READ;
            s.reason = inner.route == Route.PRIMARY ? "COPY of " + inner.reason : "COPY (query) TO STDOUT";
            s.softOnly = inner.softOnly;
            s.effects |= inner.effects & (Effects.TEMP_OBJECT | Effects.UNKNOWN_NAME);
            return;
        }
        applyVerdict(s, v, StatementKind.READ, "COPY TO STDOUT");
    }

    private void call(Stmt s, int from, int to) {
        s.kind = StatementKind.WRITE;
        if (!isAnyName(from + 1)) {
            s.reason = "CALL not understood";
            return;
        }
        int e = chainEnd(from + 1);
        Verdict v = new Verdict();
        FunctionInfo f = lookupFunction(from + 1, e);
        String pname = qualifiedText(from + 1, e);
        if (f == null) {
            v.hazard(SEV_UNKNOWN, "CALL of unknown procedure " + pname + "()" + notLoaded(), true);
        } else if (f.hazard() != Hazard.NONE) {
            v.hazard(SEV_WRITE, "CALL " + f.reason(), true);
        }
        if (k(e) == LPAREN) {
            scan(e, to, v, QUERY);
        }
        applyVerdict(s, v, StatementKind.READ, "CALL of read-only procedure " + pname + "()");
    }

    private void doBlock(Stmt s, int from, int to) {
        s.kind = StatementKind.OTHER;
        String lang = "plpgsql";
        int body = -1;
        for (int i = from + 1; i < to; i++) {
            if (is(i, "language") && i + 1 < to) {
                lang = k(i + 1) == STRING ? stringValue(i + 1).toLowerCase(Locale.ROOT)
                        : isAnyName(i + 1) ? name(i + 1) : "?";
                i++;
            } else if (k(i) == STRING && body < 0) {
                body = i;
            }
        }
        if (body < 0 || !lang.equals("plpgsql")) {
            s.reason = body < 0 ? "DO not understood" : "DO block in language " + lang;
            return;
        }
        Verdict v = analyzeBody(stringValue(body), true, tb.standardConformingStrings);
        s.route = v.primary() ? Route.PRIMARY : Route.REPLICA;
        s.kind = v.write ? StatementKind.WRITE : StatementKind.READ;
        s.reason = v.primary() ? "DO block: " + v.reason : "read-only DO block";
        s.effects |= v.effects & (Effects.TEMP_OBJECT | Effects.ADVISORY_LOCK | Effects.ADVISORY_UNLOCK
                | Effects.SET | Effects.NOTIFY | Effects.UNKNOWN_NAME);
    }

    /** Analyses a PL/pgSQL (or SQL) body: a hazard when it may write or is otherwise unsafe on a standby. */
    Verdict analyzeBody(String body, boolean plpgsql, boolean scs) {
        Verdict v = new Verdict();
        if (bodyNesting > 8) {
            v.hazard(SEV_UNKNOWN, "nested too deeply", false);
            return v;
        }
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        TokenBuffer inner = new TokenBuffer();
        SqlLexer.lex(bytes, 0, bytes.length, scs, inner);
        if (inner.incomplete()) {
            v.hazard(SEV_UNKNOWN, "body not understood", false);
            return v;
        }
        StatementAnalyzer a = new StatementAnalyzer(inner, catalog, overrides, bodyNesting + 1);
        if (!a.balanced) {
            v.hazard(SEV_UNKNOWN, "body not understood", false);
            return v;
        }
        a.scan(0, a.n, v, BODY, plpgsql);
        return v;
    }

    private void create(Stmt s, int from, int to) {
        int i = from + 1;
        if (is(i, "or") && is(i + 1, "replace")) {
            i += 2;
        }
        if (is(i, "global") || is(i, "local")) {
            i++;
        }
        boolean temp = is(i, "temp") || is(i, "temporary");
        for (int j = from; j < to && !temp; j++) {
            if (isAnyName(j) && "pg_temp".equals(name(j)) && k(j + 1) == DOT) {
                temp = true;
            }
        }
        int c = i + (temp ? 1 : 0);
        if (is(c, "unlogged")) {
            c++;
        }
        boolean twoWords = is(c, "materialized") || is(c, "unique") || is(c, "foreign") || is(c, "event");
        s.command = "CREATE" + (w(c) == null ? "" : " " + words[c].toUpperCase(Locale.ROOT))
                + (twoWords && w(c + 1) != null ? " " + words[c + 1].toUpperCase(Locale.ROOT) : "");
        write(s, s.command);
        if (temp) {
            s.effects = Effects.TEMP_OBJECT;
            s.reason = "temporary object (" + s.command + ")";
        }
    }

    // ------------------------------------------------------------------ the scan

    /** Parses a CTE list starting after WITH; returns the index of the main statement, or -1. */
    int cteList(int i, int to, Set<String> names) {
        List<String> found = new ArrayList<>();
        List<Integer> at = new ArrayList<>();
        if (is(i, "recursive")) {
            i++;
        }
        while (i < to) {
            if (!isAnyName(i)) {
                return -1;
            }
            found.add(name(i));
            at.add(i);
            i++;
            if (k(i) == LPAREN) {
                i = match[i] + 1;
            }
            if (!is(i, "as")) {
                return -1;
            }
            i++;
            if (is(i, "not")) {
                i++;
            }
            if (is(i, "materialized")) {
                i++;
            }
            if (k(i) != LPAREN) {
                return -1;
            }
            i = match[i] + 1;
            if (is(i, "search")) {
                while (i < to && !is(i, "set")) {
                    i++;
                }
                i += 2;
            }
            if (is(i, "cycle")) {
                while (i < to && !is(i, "using")) {
                    i++;
                }
                i += 2;
            }
            if (k(i) == COMMA) {
                i++;
                continue;
            }
            if (names != null) {
                names.addAll(found);
            }
            for (int x : at) {
                notCall[x] = true;
            }
            return i;
        }
        return -1;
    }

    /** A CTE definition and where its name is visible. */
    private record Cte(String name, int visibleFrom, int scopeEnd, int bodyOpen, int bodyClose, boolean recursive) {
        boolean visibleAt(int pos) {
            if (pos >= scopeEnd) {
                return false;
            }
            return recursive ? pos > visibleFrom : pos > bodyClose;
        }
    }

    /** The CTEs defined by every WITH clause in {@code [from, to)}, with their scopes. */
    private List<Cte> collectCtes(int from, int to) {
        List<Cte> out = new ArrayList<>();
        for (int w = from; w < to; w++) {
            if (!is(w, "with")) {
                continue;
            }
            int d = depth[w];
            int scopeEnd = w + 1;
            while (scopeEnd < to && depth[scopeEnd] >= d && !(k(scopeEnd) == SEMI && depth[scopeEnd] == d)) {
                scopeEnd++;
            }
            int i = w + 1;
            boolean recursive = is(i, "recursive");
            if (recursive) {
                i++;
            }
            List<Cte> found = new ArrayList<>();
            boolean ok = false;
            while (i < to && isAnyName(i)) {
                String cname = name(i);
                int nameAt = i;
                i++;
                if (k(i) == LPAREN) {
                    i = match[i] + 1;
                }
                if (!is(i, "as")) {
                    break;
                }
                i++;
                if (is(i, "not")) {
                    i++;
                }
                if (is(i, "materialized")) {
                    i++;
                }
                if (k(i) != LPAREN) {
                    break;
                }
                found.add(new Cte(cname, nameAt, scopeEnd, i, match[i], recursive));
                i = match[i] + 1;
                if (is(i, "search")) {
                    while (i < to && !is(i, "set")) {
                        i++;
                    }
                    i += 2;
                }
                if (is(i, "cycle")) {
                    while (i < to && !is(i, "using")) {
                        i++;
                    }
                    i += 2;
                }
                if (k(i) == COMMA) {
                    i++;
                    continue;
                }
                ok = true;
                break;
            }
            if (ok) {
                out.addAll(found);
            }
        }
        return out;
    }

    private static boolean cteVisible(List<Cte> ctes, String name, int pos) {
        if (ctes == null) {
            return false;
        }
        for (Cte c : ctes) {
            if (c.name().equals(name) && c.visibleAt(pos)) {
                return true;
            }
        }
        return false;
    }

    private boolean isQueryStart(int i) {
        String ww = w(i);
        return ww != null && (ww.equals("select") || ww.equals("with") || ww.equals("values") || ww.equals("table"));
    }

    /** True when the DML keyword at {@code i} really starts a data-modifying statement. */
    private boolean isDmlStart(int i) {
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

    private String notLoaded() {
        return catalog.live() ? "" : " (catalog not loaded)";
    }

    private FunctionInfo lookupFunction(int first, int endExclusive) {
        int last = endExclusive - 1;
        String fname = name(last);
        String schema = last - 2 >= first ? name(last - 2) : null;
        Hazard o = overrides.lookup(schema, fname);
        if (o != null) {
            return new FunctionInfo(fname, o, o == Hazard.NONE ? "" : "configured write function " + fname + "()",
                    false, false);
        }
        return catalog.function(schema, fname);
    }

    private boolean isCall(int first, int last, int mode) {
        return isCall(first, last, mode, false);
    }

    /**
     * True when the name {@code [first, last]} followed by '(' is a function call.
     *
     * @param afterFromItem the name directly follows a complete FROM item, where a name with a
     *                      parenthesised list is an alias with column names ({@code FROM f() g(a)})
     */
    private boolean isCall(int first, int last, int mode, boolean afterFromItem) {
        if (notCall[last]) {
            return false;
        }
        int prev = first - 1;
        int pk = k(prev);
        if (pk == TYPECAST || is(prev, "as") || is(prev, "tablesample")) {
            return false;
        }
        if (mode != BODY && afterFromItem) {
            if (pk == RPAREN) {
                return false;
            }
            if (pk == IDENT && builtin.keywordCategory(words[prev]) == null) {
                return false;
            }
        }
        if (first == last && k(last) == IDENT) {
            String ww = words[last];
            String cat = builtin.keywordCategory(ww);
            if (mode == BODY && PLPGSQL_WORDS.contains(ww)) {
                return false;
            }
            if (cat == null) {
                return true;
            }
            switch (cat) {
                case "R":
                case "C":
                    return false;
                case "T":
                    return builtin.builtinFunction(ww) != null;
                default:
                    return !SYNTAX_WORDS.contains(ww);
            }
        }
        return true;
    }

    private void callHazard(int first, int endExclusive, Verdict v, int mode) {
        int last = endExclusive - 1;
        String fname = name(last);
        String schema = last - 2 >= first ? name(last - 2) : null;
        FunctionInfo f = lookupFunction(first, endExclusive);
        if (mode == PLAN && f != null && (f.volatileDeclared() || builtin.builtinFunction(fname) != null
                && (schema == null || schema.equals("pg_catalog")))) {
            return; // planning pre-evaluates only immutable (folding) and stable (estimates) user functions
        }
        if (f == null) {
            v.hazard(SEV_UNKNOWN, "unknown function " + (schema == null ? "" : schema + ".") + fname + "()"
                    + notLoaded(), false);
            return;
        }
        switch (f.hazard()) {
            case NONE:
                return;
            case WRITE:
                v.hazard(SEV_WRITE, f.reason(), true);
                if (fname.equals("pg_notify")) {
                    v.effects |= Effects.NOTIFY;
                }
                return;
            case SERVER_LOCAL:
                v.hazard(SEV_SERVER_LOCAL, f.reason(), false);
                return;
            case SESSION_DEPENDENT:
                v.hazard(SEV_SESSION_DEP, f.reason(), false);
                return;
            case DYNAMIC_SQL:
                v.hazard(SEV_DYNAMIC, f.reason(), false);
                return;
            case ADVISORY_LOCK:
                v.hazard(SEV_SERVER_LOCAL, f.reason(), false);
                v.effects |= Effects.ADVISORY_LOCK;
                v.session = true;
                return;
            case ADVISORY_UNLOCK:
                v.hazard(SEV_SERVER_LOCAL, f.reason(), false);
                v.effects |= Effects.ADVISORY_UNLOCK;
                v.session = true;
                return;
            case ADVISORY_XACT_LOCK:
                v.hazard(SEV_SERVER_LOCAL, f.reason(), false);
                return;
            case SET_CONFIG:
                v.hazard(SEV_SET_CONFIG, "set_config() (session state; literal-dependent)", false);
                v.effects |= Effects.SET;
                v.session = true;
                v.setConfigCalls.add(last);
                return;
            case VOLATILE:
                v.hazard(SEV_VOLATILE, f.reason(), false);
                return;
            default:
                v.hazard(SEV_UNKNOWN, f.reason(), f.hazard().writes());
        }
    }

    /** Records a relation reference {@code [first, end)}; {@code ctes} may be null. */
    private void relationRef(int first, int end, Verdict v, List<Cte> ctes, int mode) {
        int last = end - 1;
        String rname = name(last);
        String schema = last - 2 >= first ? name(last - 2) : null;
        if (schema == null && cteVisible(ctes, rname, first)) {
            return;
        }
        if ("pg_temp".equals(schema)) {
            v.hazard(SEV_UNSAFE_REL, "temporary relation pg_temp." + rname, false);
            return;
        }
        RelationInfo r = catalog.relation(schema, rname);
        if (r == null) {
            v.hazard(SEV_UNKNOWN_REL, "unknown relation " + (schema == null ? "" : schema + ".") + rname
                    + notLoaded(), false);
        } else if (r.hazard() != Hazard.NONE && (mode != PLAN || r.planHazard()) && mode != LOCK_ONLY) {
            v.hazard(SEV_UNSAFE_REL, r.reason(), false);
        }
    }

    void scan(int from, int to, Verdict v, int mode) {
        scan(from, to, v, mode, true);
    }

    /**
     * Scans tokens {@code [from, to)} for hazards.
     *
     * @param allowInto in BODY mode: PL/pgSQL's SELECT ... INTO variable
     */
    void scan(int from, int to, Verdict v, int mode, boolean allowInto) {
        boolean[] dead = deadTokens(from, to);
        List<Cte> ctes = collectCtes(from, to);
        for (Cte c : ctes) {
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
                    if (mode != PLAN && (w(i + 1) != null && DML_WORDS.contains(w(i + 1))) && isDmlStart(i + 1)) {
                        v.hazard(SEV_WRITE, "data-modifying " + words[i + 1].toUpperCase(Locale.ROOT)
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
                    if (mode != PLAN) {
                        int s = tb.start[i];
                        int b = src[s];
                        if (b != '$' && b != '\\' && b >= 0) {
                            String sym = new String(src, s, tb.end[i] - s, StandardCharsets.US_ASCII);
                            FunctionInfo f = catalog.operator(sym);
                            if (f != null && f.hazard() != Hazard.NONE && !(mode == BODY && sym.equals("=>"))) {
                                v.hazard(f.hazard() == Hazard.UNKNOWN ? SEV_UNKNOWN : SEV_WRITE, f.reason(),
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
                            relationRef(j, e, v, ctes, mode);
                            for (int x = j; x < e; x++) {
                                handled[x - from] = true;
                            }
                        }
                    }
                }
                if (mode != PLAN) {
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
                            v.hazard(SEV_LOCKING, "SELECT ... " + lock, true);
                        }
                    }
                    if (word.equals("into") && !is(i - 1, "insert") && !is(i - 1, "merge")
                            && (mode == QUERY || !allowInto)) {
                        v.hazard(SEV_WRITE, "SELECT INTO (creates a table)", true);
                        if (is(i + 1, "temp") || is(i + 1, "temporary")
                                || ((is(i + 1, "local") || is(i + 1, "global")) && (is(i + 2, "temp")
                                || is(i + 2, "temporary")))) {
                            v.effects |= Effects.TEMP_OBJECT;
                        }
                    }
                    if (mode == BODY && word.equals("create") && (is(i + 1, "temp") || is(i + 1, "temporary")
                            || ((is(i + 1, "local") || is(i + 1, "global")) && is(i + 2, "temp")))) {
                        v.effects |= Effects.TEMP_OBJECT;
                    }
                    if (mode == BODY && word.equals("set") && (i == from || k(i - 1) == SEMI || is(i - 1, "begin")
                            || is(i - 1, "then") || is(i - 1, "else") || is(i - 1, "loop"))) {
                        v.hazard(SEV_SET_CONFIG, "SET in a function body (session state)", false);
                    }
                    if (mode == BODY && BODY_FORBIDDEN.contains(word)) {
                        boolean writes = DML_WORDS.contains(word) || word.equals("truncate");
                        if (word.equals("execute")) {
                            v.hazard(SEV_DYNAMIC, "dynamic SQL (EXECUTE)", false);
                        } else {
                            v.hazard(writes ? SEV_WRITE : SEV_SERVER_LOCAL,
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
                        relationRef(i, e, v, ctes, mode);
                    }
                    i = e - 1;
                    continue;
                }
            }
            if (k(e) == LPAREN && isCall(i, e - 1, mode, fromState[d] == F_AFTER)) {
                if (!dead[e - 1 - from] || !skippableWhenDead(lookupFunction(i, e))) {
                    callHazard(i, e, v, mode);
                }
                i = e - 1;
                continue;
            }
            if (catalog.live() && mode != PLAN) {
                for (int x = i; x < e; x += 2) {
                    String nm = name(x);
                    if (!cteVisible(ctes, nm, x) && !notCall[x] && catalog.isHazardousRelationName(nm)) {
                        v.hazard(SEV_SOFT, "name of unsafe relation " + nm, false);
                    }
                }
            }
            i = e - 1;
        }
    }

    // ------------------------------------------------------------------ code that never runs

    /**
     * Only writes (and volatile or dynamic-SQL functions) are forgiven in code that never runs:
     * server-local and session effects (advisory locks, signals, set_config) are judged by what
     * the statement asks for, so they keep forcing the primary.
     */
    private static boolean skippableWhenDead(FunctionInfo f) {
        if (f == null) {
            return false;
        }
        Hazard h = f.hazard();
        return h == Hazard.NONE || h == Hazard.WRITE || h == Hazard.VOLATILE || h == Hazard.DYNAMIC_SQL;
    }

    /**
     * Tokens of code PostgreSQL never evaluates, independent of any literal's value: the result of a
     * searched {@code CASE WHEN false THEN ...} arm (dropped by constant folding), the target list
     * and FROM of a query block whose WHERE is exactly {@code false} (a one-time filter gates it)
     * and the target list of an {@code EXISTS (SELECT ...)} subquery (discarded by the planner).
     * Only function calls are skipped there; relations, locking clauses and DML still count.
     */
    private boolean[] deadTokens(int from, int to) {
        boolean[] dead = new boolean[to - from];
        for (int i = from; i < to; i++) {
            if (k(i) != IDENT) {
                continue;
            }
            String ww = words[i];
            if (ww.equals("case") && is(i + 1, "when")) {
                deadCaseArms(i, to, from, dead);
            } else if (ww.equals("select")) {
                deadWhereFalse(i, to, from, dead);
            } else if (ww.equals("exists") && k(i + 1) == LPAREN && is(i + 2, "select")) {
                deadExistsTargetList(i + 2, match[i + 1], from, dead);
            } else if (ww.equals("coalesce") && k(i + 1) == LPAREN) {
                deadCoalesceArgs(i + 1, from, dead);
            }
        }
        return dead;
    }

    private void deadCaseArms(int caseAt, int to, int from, boolean[] dead) {
        int d = depth[caseAt];
        int level = 0;
        for (int j = caseAt + 1; j < to; j++) {
            if (depth[j] < d) {
                return;
            }
            if (depth[j] != d || k(j) != IDENT) {
                continue;
            }
            String ww = words[j];
            if (ww.equals("case")) {
                level++;
            } else if (ww.equals("end")) {
                if (level == 0) {
                    return;
                }
                level--;
            } else if (level == 0 && ww.equals("when") && is(j + 1, "true") && is(j + 2, "then")) {
                int lvl = 0;
                int e = j + 3;
                for (; e < to; e++) {
                    if (depth[e] < d) {
                        break;
                    }
                    if (depth[e] == d && k(e) == IDENT) {
                        if (is(e, "case")) {
                            lvl++;
                        } else if (is(e, "end")) {
                            if (lvl == 0) {
                                break;
                            }
                            lvl--;
                        } else if (lvl == 0 && (is(e, "when") || is(e, "else"))) {
                            break;
                        }
                    }
                }
                int caseEnd = e;
                for (int lvl2 = 0; caseEnd < to; caseEnd++) {
                    if (depth[caseEnd] < d) {
                        break;
                    }
                    if (depth[caseEnd] == d && is(caseEnd, "case")) {
                        lvl2++;
                    } else if (depth[caseEnd] == d && is(caseEnd, "end")) {
                        if (lvl2 == 0) {
                            break;
                        }
                        lvl2--;
                    }
                }
                for (int x = e; x < caseEnd; x++) {
                    dead[x - from] = true;
                }
                return;
            } else if (level == 0 && ww.equals("when") && (is(j + 1, "false") || is(j + 1, "null"))
                    && is(j + 2, "then")) {
                int lvl = 0;
                int e = j + 3;
                for (; e < to; e++) {
                    if (depth[e] < d) {
                        break;
                    }
                    if (depth[e] == d && k(e) == IDENT) {
                        if (is(e, "case")) {
                            lvl++;
                        } else if (is(e, "end")) {
                            if (lvl == 0) {
                                break;
                            }
                            lvl--;
                        } else if (lvl == 0 && (is(e, "when") || is(e, "else"))) {
                            break;
                        }
                    }
                }
                for (int x = j + 3; x < e; x++) {
                    dead[x - from] = true;
                }
                j = e - 1;
            }
        }
    }

    /** COALESCE stops at its first non-null constant: later arguments are dropped by constant folding. */
    private void deadCoalesceArgs(int open, int from, boolean[] dead) {
        int close = match[open];
        int argStart = open + 1;
        for (int j = open + 1; j < close; j++) {
            if (k(j) == COMMA && depth[j] == depth[open] + 1) {
                boolean constant = j == argStart + 1 && (k(argStart) == STRING || k(argStart) == NUMBER
                        || is(argStart, "true") || is(argStart, "false"));
                if (constant) {
                    for (int x = j + 1; x < close; x++) {
                        dead[x - from] = true;
                    }
                    return;
                }
                argStart = j + 1;
            }
        }
    }

    private int blockEnd(int sel, int to) {
        int d = depth[sel];
        int j = sel + 1;
        for (; j < to; j++) {
            if (depth[j] < d) {
                break;
            }
            if (depth[j] == d && (k(j) == SEMI || is(j, "union") || is(j, "intersect") || is(j, "except"))) {
                break;
            }
        }
        return j;
    }

    private int clauseAt(int sel, int end, String clause) {
        int d = depth[sel];
        for (int j = sel + 1; j < end; j++) {
            if (depth[j] == d && is(j, clause)) {
                return j;
            }
        }
        return -1;
    }

    /** True when the block has no aggregate, window or set-returning (or unknown) function call. */
    private boolean plainCallsOnly(int sel, int end, boolean noSets) {
        for (int j = sel + 1; j < end; j++) {
            if (is(j, "over")) {
                return false;
            }
            if (isAnyName(j)) {
                int e = chainEnd(j);
                if (k(e) == LPAREN && isCall(j, e - 1, QUERY)) {
                    FunctionInfo f = lookupFunction(j, e);
                    if (f == null || f.aggregate() || (noSets && f.returnsSet())) {
                        return false;
                    }
                }
                j = e - 1;
            }
        }
        return true;
    }

    private void deadWhereFalse(int sel, int to, int from, boolean[] dead) {
        int end = blockEnd(sel, to);
        int where = clauseAt(sel, end, "where");
        if (where < 0 || !is(where + 1, "false")) {
            return;
        }
        int after = where + 2;
        boolean ends = after >= end || (depth[after] == depth[sel] && (is(after, "order") || is(after, "limit")
                || is(after, "offset") || is(after, "fetch") || is(after, "for")));
        if (!ends || clauseAt(sel, end, "group") >= 0 || clauseAt(sel, end, "having") >= 0
                || clauseAt(sel, end, "window") >= 0 || !plainCallsOnly(sel, end, false)) {
            return;
        }
        for (int x = sel + 1; x < where; x++) {
            dead[x - from] = true;
        }
    }

    private void deadExistsTargetList(int sel, int close, int from, boolean[] dead) {
        int end = blockEnd(sel, close);
        if (end != close) {
            return; // set operation
        }
        for (String c : new String[] {"group", "having", "limit", "offset", "fetch", "for", "window"}) {
            if (clauseAt(sel, end, c) >= 0) {
                return;
            }
        }
        if (!plainCallsOnly(sel, end, true)) {
            return;
        }
        int tlistEnd = end;
        for (String c : new String[] {"from", "where", "order"}) {
            int at = clauseAt(sel, end, c);
            if (at >= 0 && at < tlistEnd) {
                tlistEnd = at;
            }
        }
        for (int x = sel + 1; x < tlistEnd; x++) {
            dead[x - from] = true;
        }
    }

    // ------------------------------------------------------------------ set_config details

    /** Details of the first set_config() call of a statement (tracked when its arguments are literals). */
    StatementInfo.SetConfigDetails setConfigDetails(int nameToken) {
        int open = nameToken + 1;
        int close = match[open];
        List<Integer> args = new ArrayList<>();
        int argStart = open + 1;
        for (int j = open + 1; j <= close; j++) {
            if (j == close || (k(j) == COMMA && depth[j] == depth[open] + 1)) {
                args.add(argStart);
                args.add(j);
                argStart = j + 1;
            }
        }
        if (args.size() != 6) {
            return new StatementInfo.SetConfigDetails(null, null, false, false);
        }
        int a0 = args.get(0);
        int a1 = args.get(2);
        int a2 = args.get(4);
        boolean single = args.get(1) == a0 + 1 && args.get(3) == a1 + 1 && args.get(5) == a2 + 1;
        if (!single || k(a0) != STRING || k(a1) != STRING || !(is(a2, "true") || is(a2, "false"))) {
            return new StatementInfo.SetConfigDetails(null, null, false, false);
        }
        return new StatementInfo.SetConfigDetails(stringValue(a0).toLowerCase(Locale.ROOT), stringValue(a1),
                is(a2, "true"), true);
    }

    // ------------------------------------------------------------------ catalog building

    /** The verdict of a function body (PL/pgSQL when {@code plpgsql}, else SQL). */
    static Verdict bodyVerdict(String body, boolean plpgsql, Catalog catalog) {
        TokenBuffer empty = new TokenBuffer();
        empty.reset(new byte[0], true);
        return new StatementAnalyzer(empty, catalog, FunctionOverrides.NONE).analyzeBody(body, plpgsql, true);
    }

    /** Why a query (a view definition, a policy expression) is unsafe on a replica, or null when it is safe. */
    static String unsafeQueryReason(String sql, Catalog catalog) {
        byte[] bytes = sql.getBytes(StandardCharsets.UTF_8);
        TokenBuffer tb = new TokenBuffer();
        SqlLexer.lex(bytes, 0, bytes.length, true, tb);
        if (tb.incomplete()) {
            return "definition not understood";
        }
        for (Stmt s : new StatementAnalyzer(tb, catalog, FunctionOverrides.NONE).analyzeAll()) {
            if (s.route == Route.PRIMARY && !s.softOnly) {
                return s.reason;
            }
        }
        return null;
    }
}
