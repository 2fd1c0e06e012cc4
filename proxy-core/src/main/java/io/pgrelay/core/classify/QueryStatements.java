package io.pgrelay.core.classify;

import java.util.Locale;

import static io.pgrelay.core.classify.SqlLexer.COMMA;
import static io.pgrelay.core.classify.SqlLexer.LPAREN;
import static io.pgrelay.core.classify.SqlLexer.STRING;

/** Statements that read or write data: queries, MERGE, EXPLAIN, LOCK, COPY, CALL, DO. */
final class QueryStatements extends StatementFamily {
    private final FunctionResolver functions;

    QueryStatements(StatementAnalyzer analyzer, FunctionResolver functions) {
        super(analyzer);
        this.functions = functions;
    }

    private HazardScanner scanner() {
        return analyzer.scanner;
    }

    void query(StatementBuilder s, int from, int to) {
        Verdict v = new Verdict();
        if (is(from, "with")) {
            int main = scanner().cteList(from, to);
            if (main < 0) {
                v.hazard(Severity.UNKNOWN, "WITH clause not understood", false);
            } else if ((w(main) != null && HazardScanner.DML_WORDS.contains(w(main)))) {
                v.hazard(Severity.WRITE, "data-modifying statement " + words[main].toUpperCase(Locale.ROOT)
                        + " with WITH", true);
            }
        }
        scan(from, to, v, ScanMode.QUERY);
        applyVerdict(s, v, StatementKind.READ, "read-only " + s.command);
        backendFunctionAlone(s, from, to);
    }

    /**
     * {@code SELECT pg_backend_pid()}, {@code SELECT pg_cancel_backend(n)} and
     * {@code SELECT pg_terminate_backend(n [, timeout])}, each alone (an alias allowed): the
     * process ids a client sees are the ones pgrelay issued, so pgrelay answers these itself.
     */
    private void backendFunctionAlone(StatementBuilder s, int from, int to) {
        if (!is(from, "select")) {
            return;
        }
        int f = from + 1;
        if (is(f, "pg_catalog") && k(f + 1) == SqlLexer.DOT) {
            f += 2;
        }
        String function = w(f);
        if (function == null || k(f + 1) != LPAREN) {
            return;
        }
        int close = match[f + 1];
        int rest = close + 1;
        if (is(rest, "as")) {
            rest++;
        }
        if (rest < to && isAnyName(rest)) {
            rest++;
        }
        if (rest != to) {
            return;
        }
        if (function.equals("pg_backend_pid") && close == f + 2) {
            s.effect(new SessionEffect.BackendPid());
        } else if ((function.equals("pg_cancel_backend") || function.equals("pg_terminate_backend"))
                && k(f + 2) == SqlLexer.NUMBER && (close == f + 3 || function.equals("pg_terminate_backend")
                && k(f + 3) == COMMA && close == f + 5)) {
            s.bindings.add(new EffectBinding.SignalArgument(s.effects.size(), f + 2));
            s.effect(new SessionEffect.SignalBackend(function.equals("pg_cancel_backend")
                    ? SessionEffect.Signal.CANCEL : SessionEffect.Signal.TERMINATE, text(f + 2, f + 3)));
        }
    }

    void merge(StatementBuilder s, int from, int to) {
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
            s.write("MERGE");
            return;
        }
        Verdict v = new Verdict();
        scan(from, to, v, ScanMode.QUERY);
        applyVerdict(s, v, StatementKind.READ, "MERGE whose every action is DO NOTHING");
    }

    /**
     * EXPLAIN without ANALYZE only plans, which a standby does for any statement (the executor's
     * read-only check skips EXPLAIN-only plans); only what planning touches counts. EXPLAIN
     * ANALYZE runs the statement.
     */
    void explain(StatementBuilder s, int from, int to) {
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
        StatementBuilder inner = statement(i, to);
        s.traits = s.traits.union(inner.traits.without(Trait.SESSION_OBJECT));
        for (SessionEffect effect : inner.effects) {
            if (effect instanceof SessionEffect.Execute
                    || analyze && effect instanceof SessionEffect.CreateTemporaryObject) {
                s.effect(effect);
            }
        }
        if (analyze) {
            s.command = "EXPLAIN ANALYZE";
            s.route = inner.route;
            s.kind = inner.kind == StatementKind.WRITE ? StatementKind.WRITE : StatementKind.READ;
            s.reason = "EXPLAIN ANALYZE " + (inner.route == Route.PRIMARY ? "of " + inner.reason : inner.command);
            s.softOnly = inner.softOnly;
            if (inner.has(Trait.SESSION_OBJECT)) {
                s.trait(Trait.SESSION_OBJECT);
            }
            return;
        }
        s.kind = StatementKind.READ;
        int planned = plannedPart(i, to);
        if (planned < 0) {
            s.route = Route.PRIMARY;
            s.reason = "EXPLAIN " + inner.command;
            return;
        }
        Verdict v = new Verdict();
        if (planned < to) {
            scan(planned, to, v, ScanMode.PLAN);
        }
        applyVerdict(s, v, StatementKind.READ, "EXPLAIN without ANALYZE");
        s.kind = StatementKind.READ;
    }

    /** Where the part of an explained statement that is planned starts ({@code to} for nothing); -1 when not understood. */
    private int plannedPart(int i, int to) {
        String w0 = w(i);
        if (k(i) == LPAREN || "select".equals(w0) || "values".equals(w0) || "table".equals(w0) || "with".equals(w0)
                || "insert".equals(w0) || "update".equals(w0) || "delete".equals(w0) || "merge".equals(w0)) {
            return i;
        }
        if ("execute".equals(w0) && isAnyName(i + 1)) {
            return i + 2; // the arguments; the prepared statement is replayed where this runs
        }
        if ("create".equals(w0) || "declare".equals(w0)) {
            String keyword = "create".equals(w0) ? "as" : "for";
            for (int j = i + 1; j < to; j++) {
                if (is(j, keyword) && depth[j] == 0 && scanner().isQueryStart(j + 1)) {
                    return j + 1;
                }
            }
        }
        return -1;
    }

    void lock(StatementBuilder s, int from, int to) {
        s.trait(Trait.LOCK);
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
                scanner().relationRef(j, e, v, null, ScanMode.LOCK_ONLY);
                j = e - 1;
            }
        }
        applyVerdict(s, v, StatementKind.READ, "LOCK " + mode.toUpperCase(Locale.ROOT));
    }

    void copy(StatementBuilder s, int from, int to) {
        int i = from + 1;
        if (is(i, "binary")) {
            i++;
        }
        Verdict v = new Verdict();
        StatementBuilder inner = null;
        if (k(i) == LPAREN) {
            inner = statement(i + 1, match[i]);
            i = match[i] + 1;
        } else if (isAnyName(i)) {
            int e = chainEnd(i);
            scanner().relationRef(i, e, v, null, ScanMode.QUERY);
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
                s.trait(Trait.COPY_FROM_STDIN);
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
        s.trait(Trait.COPY_TO_STDOUT);
        if (inner != null) {
            s.route = inner.route;
            s.kind = inner.kind == StatementKind.WRITE ? StatementKind.WRITE : StatementKind.READ;
            s.reason = inner.route == Route.PRIMARY ? "COPY of " + inner.reason : "COPY (query) TO STDOUT";
            s.softOnly = inner.softOnly;
            s.traits = s.traits.union(inner.traits);
            for (SessionEffect effect : inner.effects) {
                if (effect instanceof SessionEffect.CreateTemporaryObject) {
                    s.effect(effect);
                }
            }
            return;
        }
        applyVerdict(s, v, StatementKind.READ, "COPY TO STDOUT");
    }

    void call(StatementBuilder s, int from, int to) {
        s.kind = StatementKind.WRITE;
        if (!named(s, from + 1)) {
            return;
        }
        int e = chainEnd(from + 1);
        Verdict v = new Verdict();
        FunctionInfo f = functions.lookup(from + 1, e);
        String pname = qualifiedText(from + 1, e);
        if (f == null) {
            v.hazard(Severity.UNKNOWN, "CALL of unknown procedure " + pname + "()" + functions.notLoaded(), true);
        } else if (f.hazard() != Hazard.NONE) {
            v.hazard(Severity.WRITE, "CALL " + f.reason(), true);
        }
        if (k(e) == LPAREN) {
            scan(e, to, v, ScanMode.QUERY);
        }
        applyVerdict(s, v, StatementKind.READ, "CALL of read-only procedure " + pname + "()");
    }

    void doBlock(StatementBuilder s, int from, int to) {
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
            s.effect(new SessionEffect.UntrackedSetting("DO block pgrelay cannot read"));
            return;
        }
        Verdict v = scanner().analyzeBody(stringValue(body), true, tb.standardConformingStrings);
        s.route = v.primary() ? Route.PRIMARY : Route.REPLICA;
        s.kind = v.write ? StatementKind.WRITE : StatementKind.READ;
        s.reason = v.primary() ? "DO block: " + v.reason : "read-only DO block";
        s.traits = s.traits.union(v.traits.without(Trait.SESSION_OBJECTS_READ));
        v.effects.forEach(s::effect);
    }
}
