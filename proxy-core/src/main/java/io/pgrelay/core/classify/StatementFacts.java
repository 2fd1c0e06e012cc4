package io.pgrelay.core.classify;

import java.util.List;
import java.util.Objects;

/**
 * Everything pgrelay knows about one statement: where it may run and why, what it does, its
 * traits and its session effects, in order. Immutable.
 *
 * @param command the first keyword(s), upper-case: "SELECT", "SET", "ROLLBACK TO", "CREATE TABLE"
 * @param route   where it may run; with {@link Trait#SESSION_OBJECT} the session object it names
 *                decides as well
 * @param kind    what it does
 * @param reason  short human text explaining the route
 * @param traits  facts for everything downstream
 * @param effects its session effects, in order
 */
public record StatementFacts(String command, Route route, StatementKind kind, String reason, Traits traits,
                             List<SessionEffect> effects) {
    public StatementFacts {
        Objects.requireNonNull(command, "command");
        Objects.requireNonNull(route, "route");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(traits, "traits");
        effects = List.copyOf(effects);
    }

    public boolean has(Trait trait) {
        return traits.has(trait);
    }

    /** The first effect of this type, or null. */
    public <T extends SessionEffect> T effect(Class<T> type) {
        // Indexed: an iterator here was the hot path's main allocation (per statement).
        for (int i = 0; i < effects.size(); i++) {
            SessionEffect effect = effects.get(i);
            if (type.isInstance(effect)) {
                return type.cast(effect);
            }
        }
        return null;
    }
}
