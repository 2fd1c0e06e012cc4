package io.pgrelay.core.classify;

import io.pgrelay.testkit.corpus.Corpus;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The published corpus (test-kit's labels.jsonl), scored as its README says, without a database:
 * with the built-in catalog (catalog-dependent statements may go to the primary, but none that
 * must go to the primary may reach a replica) and with a hand-built mirror of schema.sql's
 * catalog. The live-catalog score against a real cluster is ClassifierCorpusIT in proxy-server.
 */
class ClassifierCorpusTest {
    private static List<Corpus.Statement> items;

    @BeforeAll
    static void load() {
        items = Corpus.labels();
        assertThat(items).hasSizeGreaterThan(300);
    }

    /** Routes a statement as a session would: its setup first (so EXECUTE of a prepared read resolves). */
    static Corpus.Routed route(Classifier classifier, Corpus.Statement item) {
        SessionSimulator session = new SessionSimulator(classifier, true);
        if (item.setup() != null) {
            session.run(item.setup());
        }
        Classification c = session.classify(item.sql());
        return new Corpus.Routed(c.route() == Route.REPLICA, c.has(Trait.SERVER_LOCAL_READ),
                c.route() + " (" + c.reason() + ")");
    }

    @Test
    void builtinCatalogNeverMisroutesAWrite() {
        Classifier classifier = new Classifier(BuiltinCatalog.get(), ClassifierConfig.defaults());
        Corpus.Score s = Corpus.score(items, item -> route(classifier, item));
        System.out.println(s.summary("corpus, built-in catalog"));
        assertThat(s.unsafeItems()).as("unsafe misroutes").isEmpty();
    }

    @Test
    void mirroredSchemaCatalogOffloadsReads() {
        Classifier classifier = new Classifier(TestCatalogs.shop(false), ClassifierConfig.defaults());
        Corpus.Score s = Corpus.score(items, item -> route(classifier, item));
        System.out.println(s.summary("corpus, schema.sql catalog (hand-built mirror)"));
        s.missedReads().forEach(m -> System.out.println("  not offloaded: " + m));
        assertThat(s.unsafeItems()).as("unsafe misroutes").isEmpty();
        // the four reads a standby runs that pgrelay cannot prove safe without the literal's value
        assertThat(s.missedReads()).hasSizeLessThanOrEqualTo(4);
        assertThat(s.offloadRate()).isGreaterThanOrEqualTo(0.96);
    }

    @Test
    void calciteParseShareIsReported() {
        int parsed = 0;
        int candidates = 0;
        for (Corpus.Statement item : items) {
            if (CalciteSupport.parse(item.sql()) != null) {
                parsed++;
            }
            candidates++;
        }
        System.out.printf("Calcite (Babel, PostgreSQL dialect) parses %d of %d corpus statements (%.0f%%)%n", parsed,
                candidates, 100.0 * parsed / candidates);
        assertThat(parsed).isPositive();
    }
}
