package io.pgrelay.core.classify;

import java.util.List;
import java.util.Objects;

/**
 * The routing decision for one query string (one simple Query or one Parse), immutable and cached
 * by {@link Fingerprint}: it must therefore depend on the token stream only, never on a literal's
 * value (see {@link StatementAnalyzer}).
 *
 * @param route          where the string may run
 * @param kind           what it does (the first non-empty statement's kind, WRITE if any part writes)
 * @param reason         short human text explaining the route
 * @param effects        {@link Effects} bit flags
 * @param statementCount number of non-empty statements
 */
public record Classification(Route route, StatementKind kind, String reason, int effects, int statementCount) {
    public Classification {
        Objects.requireNonNull(route, "route");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(reason, "reason");
    }

    static final Classification TOO_LONG =
            new Classification(Route.PRIMARY, StatementKind.OTHER, "statement too long", 0, 1);
    static final Classification INCOMPLETE = new Classification(Route.PRIMARY, StatementKind.OTHER,
            "unterminated string, comment or quoted identifier", 0, 1);

    /** True when every bit of {@code flag} is set in {@link #effects()}. */
    public boolean has(int flag) {
        return Effects.has(effects, flag);
    }

    /** Names of the effects, for JSON output. */
    public List<String> effectNames() {
        return Effects.names(effects);
    }

    public boolean isPrimary() {
        return route == Route.PRIMARY;
    }
}
