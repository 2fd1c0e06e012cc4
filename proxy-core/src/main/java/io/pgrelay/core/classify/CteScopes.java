package io.pgrelay.core.classify;

import java.util.ArrayList;
import java.util.List;

import static io.pgrelay.core.classify.SqlLexer.COMMA;
import static io.pgrelay.core.classify.SqlLexer.LPAREN;
import static io.pgrelay.core.classify.SqlLexer.SEMI;

/**
 * The common table expressions of WITH clauses and where their names are visible, so that a
 * CTE named like a table is not taken for it (nor its name followed by a column list for a call).
 */
final class CteScopes extends TokenView {
    /** A CTE definition and where its name is visible. */
    record Cte(String name, int visibleFrom, int scopeEnd, int bodyOpen, int bodyClose, boolean recursive) {
        boolean visibleAt(int pos) {
            if (pos >= scopeEnd) {
                return false;
            }
            return recursive ? pos > visibleFrom : pos > bodyClose;
        }
    }

    CteScopes(TokenView tokens) {
        super(tokens);
    }

    /**
     * Parses the CTE list after a WITH at {@code with}; adds its CTEs (visible up to
     * {@code scopeEnd}) to {@code found} and returns the index of the main statement, or -1 when
     * the list is not understood.
     */
    private int list(int with, int to, int scopeEnd, List<Cte> found) {
        int i = with + 1;
        boolean recursive = is(i, "recursive");
        if (recursive) {
            i++;
        }
        while (i < to) {
            if (!isAnyName(i)) {
                return -1;
            }
            String name = name(i);
            int nameAt = i;
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
            found.add(new Cte(name, nameAt, scopeEnd, i, match[i], recursive));
            i = match[i] + 1;
            i = skipClause(i, to, "search", "set");
            i = skipClause(i, to, "cycle", "using");
            if (k(i) != COMMA) {
                return i;
            }
            i++;
        }
        return -1;
    }

    /** SEARCH ... SET column / CYCLE ... USING column after a CTE's body. */
    private int skipClause(int i, int to, String clause, String last) {
        if (!is(i, clause)) {
            return i;
        }
        while (i < to && !is(i, last)) {
            i++;
        }
        return i + 2;
    }

    /** The index of the statement after the CTE list of the WITH at {@code with}, or -1; the CTE names are not calls. */
    int mainStatement(int with, int to) {
        List<Cte> found = new ArrayList<>(2);
        int main = list(with, to, to, found);
        if (main >= 0) {
            for (Cte cte : found) {
                notCall[cte.visibleFrom()] = true;
            }
        }
        return main;
    }

    /** The CTEs defined by every WITH clause in {@code [from, to)}, with their scopes. */
    List<Cte> collect(int from, int to) {
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
            List<Cte> found = new ArrayList<>(2);
            if (list(w, to, scopeEnd, found) >= 0) {
                out.addAll(found);
            }
        }
        return out;
    }

    static boolean visible(List<Cte> ctes, String name, int pos) {
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
}
