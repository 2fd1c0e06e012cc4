package io.pgrelay.core.classify;

import java.util.List;
import java.util.Objects;

/**
 * What one query string (one simple Query, or the text of one Parse) does: the strictest route
 * of its statements, its kind, the reason, the union of their traits, and the statements
 * themselves with their session effects. Immutable; the classifier caches it by
 * {@link Fingerprint}, so everything in it but the text of session effects depends on the token
 * stream only, never on a literal's value (see {@link StatementAnalyzer}).
 *
 * @param route      where the string may run; PRIMARY when any statement needs it or names a
 *                   session object ({@link Trait#SESSION_OBJECT}) the session has to resolve
 * @param kind       the first statement's kind, WRITE if any part writes
 * @param reason     short human text explaining the route
 * @param traits     the union of the statements' traits, plus MULTI / EMPTY / HINT_PRIMARY
 * @param statements the statements, in order
 */
public record Classification(Route route, StatementKind kind, String reason, Traits traits,
                             List<StatementFacts> statements) {
    public Classification {
        Objects.requireNonNull(route, "route");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(traits, "traits");
        statements = List.copyOf(statements);
    }

    static final Classification TOO_LONG = notAnalysed("statement too long", Trait.TOO_LONG);
    static final Classification INCOMPLETE =
            notAnalysed("unterminated string, comment or quoted identifier", Trait.INCOMPLETE);

    private static Classification notAnalysed(String reason, Trait trait) {
        return new Classification(Route.PRIMARY, StatementKind.OTHER, reason, Traits.of(trait), List.of());
    }

    public boolean has(Trait trait) {
        return traits.has(trait);
    }

    public boolean isPrimary() {
        return route == Route.PRIMARY;
    }

    public int statementCount() {
        return statements.size();
    }
    /**
     * The same classification routed to the primary for {@code why} (a catalog not loaded yet, a
     * standby's refusal): nothing is left for the session to resolve.
     */
    public Classification onPrimary(String why) {
        return new Classification(Route.PRIMARY, kind, why, traits.without(Trait.SESSION_OBJECT), statements);
    }
}
