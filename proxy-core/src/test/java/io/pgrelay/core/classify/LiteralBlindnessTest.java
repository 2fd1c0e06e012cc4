package io.pgrelay.core.classify;

import io.pgrelay.testkit.corpus.Corpus;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Property: classification is literal-blind. For every corpus statement (and the analyzer test
 * statements), replacing each literal by another literal of the same kind must give the same
 * fingerprint and the same route, kind and effects. DO bodies are code, not literals, and are kept.
 */
class LiteralBlindnessTest {
    private static final String[] STRINGS = {"'x'", "'DELETE FROM customers'", "'262144'", "''", "'transaction_read_only'",
            "'session_cache'", "'off'", "'SELECT 1; UPDATE t SET a = 1'"};
    private static final String[] NUMBERS = {"0", "1", "262144", "131072", "42.5", "1e9"};

    static String mutate(String sql, Random random) {
        byte[] b = sql.getBytes(StandardCharsets.UTF_8);
        TokenBuffer tb = new TokenBuffer();
        SqlLexer.lex(b, 0, b.length, true, tb);
        StringBuilder out = new StringBuilder();
        int pos = 0;
        boolean statementStart = true;
        boolean inDo = false;
        for (int i = 0; i < tb.count(); i++) {
            if (statementStart) {
                inDo = tb.isWord(i, "do");
            }
            statementStart = tb.kind(i) == SqlLexer.SEMI;
            int k = tb.kind(i);
            if ((k == SqlLexer.STRING && !inDo) || k == SqlLexer.NUMBER) {
                out.append(new String(b, pos, tb.start(i) - pos, StandardCharsets.UTF_8));
                boolean typed = k == SqlLexer.STRING;
                out.append(typed ? STRINGS[random.nextInt(STRINGS.length)] : NUMBERS[random.nextInt(NUMBERS.length)]);
                pos = tb.end(i);
            }
        }
        out.append(new String(b, pos, b.length - pos, StandardCharsets.UTF_8));
        return out.toString();
    }

    private static List<Class<?>> effectTypes(Classification c) {
        return c.statements().stream().flatMap(st -> st.effects().stream()).<Class<?>>map(Object::getClass).toList();
    }

    @Test
    void replacingLiteralsNeverChangesTheClassification() throws Exception {
        List<Corpus.Statement> items = Corpus.labels();
        Random random = new Random(7);
        for (Catalog catalog : List.of(BuiltinCatalog.get(), TestCatalogs.shop())) {
            Classifier cached = new Classifier(catalog, ClassifierConfig.defaults());
            Classifier uncached = new Classifier(catalog, ClassifierConfig.defaults().withCacheSize(0));
            int checked = 0;
            for (Corpus.Statement item : items) {
                Classification original = uncached.classify(item.sql(), true);
                for (int round = 0; round < 5; round++) {
                    String mutated = mutate(item.sql(), random);
                    if (mutated.equals(item.sql()) && round > 0) {
                        break;
                    }
                    assertThat(Classifier.fingerprint(mutated, true)).as(mutated)
                            .isEqualTo(Classifier.fingerprint(item.sql(), true));
                    Classification m = uncached.classify(mutated, true);
                    assertThat(m.route()).as(item.id() + ": " + mutated).isEqualTo(original.route());
                    assertThat(m.kind()).as(item.id() + ": " + mutated).isEqualTo(original.kind());
                    assertThat(m.traits()).as(item.id() + ": " + mutated).isEqualTo(original.traits());
                    assertThat(effectTypes(m)).as(item.id() + ": " + mutated).isEqualTo(effectTypes(original));
                    // the cached value, bound to this text, is exactly what an analysis of this text gives
                    assertThat(cached.classify(mutated, true)).as(item.id() + ": " + mutated).isEqualTo(m);
                    checked++;
                }
            }
            assertThat(checked).isGreaterThan(items.size());
        }
    }
}
