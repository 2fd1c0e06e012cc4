package io.pgrelay.core.classify;

import java.util.ArrayList;
import java.util.List;

/**
 * The {@link EffectBinding}s of a cached classification, per statement: what turns the cached
 * value into the classification of another text with the same fingerprint.
 */
final class EffectBindings {
    private final int[] statements;
    private final List<List<EffectBinding>> bindings;

    private EffectBindings(int[] statements, List<List<EffectBinding>> bindings) {
        this.statements = statements;
        this.bindings = bindings;
    }

    /**
     * A PREPARE alone in its string is replayed with the whole string, as the server records
     * it; applied to the analysed statements before they are combined.
     */
    static void wholeTextOfSoleStatement(List<StatementBuilder> analysed, TokenBuffer tokens) {
        if (analysed.size() != 1) {
            return;
        }
        StatementBuilder statement = analysed.get(0);
        for (int i = 0; i < statement.bindings.size(); i++) {
            EffectBinding binding = statement.bindings.get(i);
            if (binding instanceof EffectBinding.StatementText text
                    && statement.effects.get(text.effect()) instanceof SessionEffect.Prepare) {
                EffectBinding whole = new EffectBinding.WholeText(text.effect());
                statement.bindings.set(i, whole);
                statement.effects.set(text.effect(), whole.bind(statement.effects.get(text.effect()), tokens));
            }
        }
    }

    /** The bindings of analysed statements; null when no effect takes a value from a literal. */
    static EffectBindings of(List<StatementBuilder> analysed) {
        List<Integer> indexes = new ArrayList<>();
        List<List<EffectBinding>> all = new ArrayList<>();
        for (int i = 0; i < analysed.size(); i++) {
            List<EffectBinding> own = analysed.get(i).bindings;
            if (!own.isEmpty()) {
                indexes.add(i);
                all.add(List.copyOf(own));
            }
        }
        if (indexes.isEmpty()) {
            return null;
        }
        return new EffectBindings(indexes.stream().mapToInt(Integer::intValue).toArray(), all);
    }

    /** {@code template} with the values of its effects taken from {@code tokens}. */
    Classification bind(Classification template, TokenBuffer tokens) {
        List<StatementFacts> statementFacts = new ArrayList<>(template.statements());
        for (int i = 0; i < statements.length; i++) {
            StatementFacts facts = statementFacts.get(statements[i]);
            List<SessionEffect> effects = new ArrayList<>(facts.effects());
            for (EffectBinding binding : bindings.get(i)) {
                effects.set(binding.effect(), binding.bind(effects.get(binding.effect()), tokens));
            }
            statementFacts.set(statements[i], new StatementFacts(facts.command(), facts.route(), facts.kind(),
                    facts.reason(), facts.traits(), effects));
        }
        return new Classification(template.route(), template.kind(), template.reason(), template.traits(),
                statementFacts);
    }
}
