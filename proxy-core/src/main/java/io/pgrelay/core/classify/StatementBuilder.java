package io.pgrelay.core.classify;

import java.util.ArrayList;
import java.util.List;

/** One statement while it is being analysed; {@link #facts()} is the result. */
final class StatementBuilder {
    final int from;
    final int to;
    Route route = Route.PRIMARY;
    StatementKind kind = StatementKind.OTHER;
    String reason = "";
    Traits traits = Traits.NONE;
    final List<SessionEffect> effects = new ArrayList<>(2);
    /** How effects whose values are literals are taken from another text with the same fingerprint. */
    final List<EffectBinding> bindings = new ArrayList<>(0);
    /** The primary is needed only for a soft hazard: Calcite may clear it. */
    boolean softOnly;
    /** A plain BEGIN: replica-safe when its whole transaction in the same string is. */
    boolean softTxnStart;
    /** Ends the transaction (COMMIT / ROLLBACK without AND CHAIN). */
    boolean closesTxn;
    String command = "";

    StatementBuilder(int from, int to) {
        this.from = from;
        this.to = to;
    }

    boolean has(Trait trait) {
        return traits.has(trait);
    }

    void trait(Trait trait) {
        traits = traits.with(trait);
    }

    void effect(SessionEffect effect) {
        effects.add(effect);
    }

    /** Adds an effect whose value is the statement's own text. */
    void textEffect(SessionEffect effect) {
        bindings.add(new EffectBinding.StatementText(effects.size(), from, to));
        effects.add(effect);
    }

    void write(String what) {
        kind = StatementKind.WRITE;
        route = Route.PRIMARY;
        reason = what;
    }

    StatementFacts facts() {
        return new StatementFacts(command, route, kind, reason, traits, effects);
    }

    /** The first effect of this type, or null. */
    <T extends SessionEffect> T first(Class<T> type) {
        for (SessionEffect effect : effects) {
            if (type.isInstance(effect)) {
                return type.cast(effect);
            }
        }
        return null;
    }
}
