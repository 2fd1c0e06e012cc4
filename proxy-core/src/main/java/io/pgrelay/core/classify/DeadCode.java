package io.pgrelay.core.classify;

import static io.pgrelay.core.classify.SqlLexer.COMMA;
import static io.pgrelay.core.classify.SqlLexer.IDENT;
import static io.pgrelay.core.classify.SqlLexer.LPAREN;
import static io.pgrelay.core.classify.SqlLexer.NUMBER;
import static io.pgrelay.core.classify.SqlLexer.SEMI;
import static io.pgrelay.core.classify.SqlLexer.STRING;

/** Finds code PostgreSQL never runs, whatever the literals' values, so that its calls can be forgiven. */
final class DeadCode extends TokenView {
    private final FunctionResolver functions;

    DeadCode(TokenView tokens, FunctionResolver functions) {
        super(tokens);
        this.functions = functions;
    }


    /**
     * Only writes (and volatile or dynamic-SQL functions) are forgiven in code that never runs:
     * server-local and session effects (advisory locks, signals, set_config) are judged by what
     * the statement asks for, so they keep forcing the primary.
     */
    static boolean skippableWhenDead(FunctionInfo f) {
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
    boolean[] deadTokens(int from, int to) {
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

    /**
     * A searched CASE: the result of an arm {@code WHEN false|null THEN ...} never runs; after
     * {@code WHEN true THEN result} nothing runs but that result.
     */
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
            } else if (level == 0 && ww.equals("when") && is(j + 2, "then")) {
                if (is(j + 1, "true")) {
                    int resultEnd = armEnd(j + 3, to, d);
                    markDead(resultEnd, caseEnd(resultEnd, to, d), from, dead);
                    return;
                }
                if (is(j + 1, "false") || is(j + 1, "null")) {
                    int resultEnd = armEnd(j + 3, to, d);
                    markDead(j + 3, resultEnd, from, dead);
                    j = resultEnd - 1;
                }
            }
        }
    }

    /** Where the result starting at {@code start} ends: at the next WHEN, ELSE or END of this CASE. */
    private int armEnd(int start, int to, int d) {
        int level = 0;
        int e = start;
        for (; e < to; e++) {
            if (depth[e] < d) {
                break;
            }
            if (depth[e] == d && k(e) == IDENT) {
                if (is(e, "case")) {
                    level++;
                } else if (is(e, "end")) {
                    if (level == 0) {
                        break;
                    }
                    level--;
                } else if (level == 0 && (is(e, "when") || is(e, "else"))) {
                    break;
                }
            }
        }
        return e;
    }

    /** Where this CASE's END is, from inside it. */
    private int caseEnd(int start, int to, int d) {
        int level = 0;
        int e = start;
        for (; e < to; e++) {
            if (depth[e] < d) {
                break;
            }
            if (depth[e] == d && is(e, "case")) {
                level++;
            } else if (depth[e] == d && is(e, "end")) {
                if (level == 0) {
                    break;
                }
                level--;
            }
        }
        return e;
    }

    private static void markDead(int start, int end, int from, boolean[] dead) {
        for (int x = start; x < end; x++) {
            dead[x - from] = true;
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
                if (k(e) == LPAREN && functions.isCall(j, e - 1, ScanMode.QUERY)) {
                    FunctionInfo f = functions.lookup(j, e);
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
}
