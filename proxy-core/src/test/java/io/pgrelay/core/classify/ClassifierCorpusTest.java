package io.pgrelay.core.classify;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The published corpus (../shared/corpus/labels.jsonl), scored as its README says, without a
 * database: with the built-in catalog (catalog-dependent statements may go to the primary, but none
 * that must go to the primary may reach a replica) and with a hand-built mirror of schema.sql's
 * catalog. The live-catalog score against a real cluster is ClassifierCorpusIT in proxy-server.
 */
class ClassifierCorpusTest {
    static final Path LABELS = Path.of("../../shared/corpus/labels.jsonl");
    private static List<CorpusScoring.Item> items;

    @BeforeAll
    static void load() throws Exception {
        assertThat(Files.isRegularFile(LABELS))
                .as("the labelled corpus is missing: expected " + LABELS.toAbsolutePath().normalize()
                        + " (the repository's sibling folder shared/)")
                .isTrue();
        items = CorpusScoring.read(LABELS);
        assertThat(items).hasSizeGreaterThan(300);
    }

    @Test
    void builtinCatalogNeverMisroutesAWrite() {
        CorpusScoring.Score s = CorpusScoring.score(new Classifier(BuiltinCatalog.get(), ClassifierConfig.defaults()),
                items);
        System.out.println(s.summary("corpus, built-in catalog"));
        assertThat(s.unsafeItems()).as("unsafe misroutes").isEmpty();
    }

    @Test
    void mirroredSchemaCatalogOffloadsReads() {
        CorpusScoring.Score s = CorpusScoring.score(new Classifier(TestCatalogs.shop(false), ClassifierConfig.defaults()),
                items);
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
        for (CorpusScoring.Item item : items) {
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
