package io.pgrelay.core.classify;

/** The analysis of one family of statements, over the tokens of the {@link StatementAnalyzer} it belongs to. */
abstract class StatementFamily extends TokenView {
    final StatementAnalyzer analyzer;

    StatementFamily(StatementAnalyzer analyzer) {
        super(analyzer);
        this.analyzer = analyzer;
    }

    /** Analyses a statement nested in this one (the query of a PREPARE, a DECLARE, an EXPLAIN ...). */
    final StatementBuilder statement(int from, int to) {
        return analyzer.statement(from, to);
    }

    final void scan(int from, int to, Verdict v, ScanMode mode) {
        analyzer.scanner.scan(from, to, v, mode);
    }

    final String command(int from, int to, int count) {
        return analyzer.command(from, to, count);
    }

    final void applyVerdict(StatementBuilder s, Verdict v, StatementKind readKind, String readReason) {
        analyzer.applyVerdict(s, v, readKind, readReason);
    }

    /** Whether token {@code at} is a name; if not, the statement stays on the primary as not understood. */
    final boolean named(StatementBuilder s, int at) {
        if (isAnyName(at)) {
            return true;
        }
        s.reason = s.command + " not understood";
        return false;
    }

    /** The dotted name {@code [from, to)} as text ({@code a.b}). */
    final String qualifiedText(int from, int to) {
        StringBuilder sb = new StringBuilder();
        for (int i = from; i < to; i++) {
            if (k(i) == SqlLexer.DOT) {
                sb.append('.');
            } else {
                sb.append(name(i));
            }
        }
        return sb.toString();
    }
}
