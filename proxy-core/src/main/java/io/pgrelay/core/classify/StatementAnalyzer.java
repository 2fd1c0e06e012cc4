package io.pgrelay.core.classify;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static io.pgrelay.core.classify.SqlLexer.IDENT;
import static io.pgrelay.core.classify.SqlLexer.LPAREN;
import static io.pgrelay.core.classify.SqlLexer.SEMI;

/**
 * Token-based, structure-aware analysis of a query string: the authority for routing safety. It
 * splits the tokens into statements and hands each to the analysis of its family (queries,
 * settings, transactions, session objects, utility statements); the {@link HazardScanner} finds
 * what makes the statements that read unsafe on a standby.
 *
 * <p><b>Literal blindness.</b> No decision depends on the value of a literal (string of any
 * kind, number) or a parameter: statements with the same {@link Fingerprint} get the same route,
 * kind, traits and session effects. Where a value would decide (the mode of
 * {@code lo_open(x, 262144)}, the text passed to {@code exec_sql('...')}, {@code LIMIT 0},
 * {@code EXPLAIN (ANALYZE 0)}, the name given to {@code set_config()}), the analysis decides
 * conservatively for every value. The keywords {@code TRUE}, {@code FALSE} and {@code NULL} are
 * part of the fingerprint, so constant-false code ({@code WHERE false}, {@code CASE WHEN false
 * THEN ...}) may be recognised as never executed. The string bodies of {@code DO} are code and are
 * part of the fingerprint too. Only the values a session effect carries (the text of a SET, the
 * arguments of set_config()) come from literals: {@link EffectBinding} takes them from the text
 * at hand.
 *
 * <p>Not thread-safe; one instance per analysis (a cache miss).
 */
final class StatementAnalyzer extends TokenView {
    final HazardScanner scanner;
    private final QueryStatements queries;
    private final SettingStatements settings;
    private final TransactionStatements transactions;
    private final SessionObjectStatements sessionObjects;
    private final UtilityStatements utility;

    StatementAnalyzer(TokenBuffer tb, Catalog catalog, FunctionOverrides overrides) {
        this(tb, catalog, overrides, 0);
    }

    StatementAnalyzer(TokenBuffer tb, Catalog catalog, FunctionOverrides overrides, int bodyNesting) {
        super(tb);
        FunctionOverrides configured = overrides == null ? FunctionOverrides.NONE : overrides;
        FunctionResolver functions = new FunctionResolver(this, catalog, configured);
        this.scanner = new HazardScanner(this, catalog, configured, functions, bodyNesting);
        this.queries = new QueryStatements(this, functions);
        this.settings = new SettingStatements(this);
        this.transactions = new TransactionStatements(this);
        this.sessionObjects = new SessionObjectStatements(this);
        this.utility = new UtilityStatements(this);
    }

    /** Splits the token stream into statements and analyses each (empty statements are skipped). */
    List<StatementBuilder> analyzeAll() {
        List<StatementBuilder> out = new ArrayList<>();
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

    StatementBuilder statement(int from, int to) {
        StatementBuilder s = new StatementBuilder(from, to);
        if (!balanced) {
            s.reason = "unbalanced parentheses";
            s.command = command(from, to, 1);
            return s;
        }
        if (k(from) == LPAREN) {
            s.command = "SELECT";
            queries.query(s, from, to);
            return s;
        }
        String w0 = w(from);
        if (w0 == null) {
            s.reason = "unknown statement";
            return s;
        }
        s.command = w0.toUpperCase(Locale.ROOT);
        switch (w0) {
            case "select", "values", "table", "with" -> queries.query(s, from, to);
            case "insert", "update", "delete", "truncate" -> s.write(s.command);
            case "merge" -> queries.merge(s, from, to);
            case "explain" -> queries.explain(s, from, to);
            case "lock" -> queries.lock(s, from, to);
            case "copy" -> queries.copy(s, from, to);
            case "call" -> queries.call(s, from, to);
            case "do" -> queries.doBlock(s, from, to);
            case "show" -> settings.show(s, from, to);
            case "set" -> {
                if (!transactions.setTransaction(s, from, to)) {
                    settings.set(s, from, to);
                }
            }
            case "reset" -> settings.reset(s, from, to);
            case "begin", "start" -> transactions.begin(s, from, to);
            case "commit", "end", "rollback", "abort" -> transactions.commitRollback(s, from, to);
            case "savepoint", "release" -> transactions.savepoint(s, from, to);
            case "prepare" -> {
                if (is(from + 1, "transaction")) {
                    transactions.prepareTransaction(s);
                } else {
                    sessionObjects.prepare(s, from, to);
                }
            }
            case "execute" -> sessionObjects.execute(s, from, to);
            case "deallocate" -> sessionObjects.deallocate(s, from, to);
            case "declare" -> sessionObjects.declare(s, from, to);
            case "fetch", "move" -> sessionObjects.fetch(s, from, to);
            case "close" -> sessionObjects.close(s, from, to);
            case "listen", "unlisten" -> sessionObjects.listen(s, from, to);
            case "notify" -> sessionObjects.notify(s);
            case "discard" -> sessionObjects.discard(s, from, to);
            case "load" -> sessionObjects.load(s);
            default -> utility.statement(s, w0, from, to);
        }
        return s;
    }

    /** The first {@code count} keywords of {@code [from, to)}, upper-case. */
    String command(int from, int to, int count) {
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

    /** The route, kind and reason of a statement that reads, from what its scan found. */
    void applyVerdict(StatementBuilder s, Verdict v, StatementKind readKind, String readReason) {
        s.route = v.primary() ? Route.PRIMARY : Route.REPLICA;
        s.kind = v.write ? StatementKind.WRITE : v.session ? StatementKind.SESSION : readKind;
        s.reason = v.primary() ? v.reason : readReason;
        s.traits = s.traits.union(v.traits);
        v.effects.forEach(s::effect);
        for (int call : v.setConfigCalls) {
            settings.setConfig(s, call);
        }
        s.softOnly = v.primary() && v.softOnly;
    }

    // ------------------------------------------------------------------ catalog building

    /** The verdict of a function body (PL/pgSQL when {@code plpgsql}, else SQL). */
    static Verdict bodyVerdict(String body, boolean plpgsql, Catalog catalog) {
        TokenBuffer empty = new TokenBuffer();
        empty.reset(new byte[0], true);
        return new StatementAnalyzer(empty, catalog, FunctionOverrides.NONE).scanner.analyzeBody(body, plpgsql, true);
    }

    /** Why a query (a view definition, a policy expression) is unsafe on a replica, or null when it is safe. */
    static String unsafeQueryReason(String sql, Catalog catalog) {
        byte[] bytes = sql.getBytes(StandardCharsets.UTF_8);
        TokenBuffer tb = new TokenBuffer();
        SqlLexer.lex(bytes, 0, bytes.length, true, tb);
        if (tb.incomplete()) {
            return "definition not understood";
        }
        for (StatementBuilder s : new StatementAnalyzer(tb, catalog, FunctionOverrides.NONE).analyzeAll()) {
            if (s.route == Route.PRIMARY && !s.softOnly) {
                return s.reason;
            }
        }
        return null;
    }
}
