package io.pgrelay.core.classify;

import java.util.Set;

import static io.pgrelay.core.classify.SqlLexer.IDENT;
import static io.pgrelay.core.classify.SqlLexer.RPAREN;
import static io.pgrelay.core.classify.SqlLexer.TYPECAST;

/** Which names followed by '(' are function calls, and what the catalog (and configuration) says of them. */
final class FunctionResolver extends TokenView {
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

    final Catalog catalog;
    private final FunctionOverrides overrides;

    FunctionResolver(TokenView tokens, Catalog catalog, FunctionOverrides overrides) {
        super(tokens);
        this.catalog = catalog;
        this.overrides = overrides;
    }

    /** " (catalog not loaded)" while only the built-in catalog is known. */
    String notLoaded() {
        return catalog.live() ? "" : " (catalog not loaded)";
    }

    /** The function named by tokens {@code [first, endExclusive)}; null when unknown. */
    FunctionInfo lookup(int first, int endExclusive) {
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

    boolean isCall(int first, int last, ScanMode mode) {
        return isCall(first, last, mode, false);
    }

    /**
     * True when the name {@code [first, last]} followed by '(' is a function call.
     *
     * @param afterFromItem the name directly follows a complete FROM item, where a name with a
     *                      parenthesised list is an alias with column names ({@code FROM f() g(a)})
     */
    boolean isCall(int first, int last, ScanMode mode, boolean afterFromItem) {
        if (notCall[last]) {
            return false;
        }
        int prev = first - 1;
        int pk = k(prev);
        if (pk == TYPECAST || is(prev, "as") || is(prev, "tablesample")) {
            return false;
        }
        if (mode != ScanMode.BODY && afterFromItem) {
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
            if (mode == ScanMode.BODY && PLPGSQL_WORDS.contains(ww)) {
                return false;
            }
            if (cat == null) {
                return true;
            }
            return switch (cat) {
                case "R", "C" -> false;
                case "T" -> builtin.builtinFunction(ww) != null;
                default -> !SYNTAX_WORDS.contains(ww);
            };
        }
        return true;
    }
}
