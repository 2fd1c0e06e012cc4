package io.pgrelay.server.classify;

import io.pgrelay.core.classify.CatalogSnapshot;
import io.pgrelay.core.classify.Classification;
import io.pgrelay.core.classify.Classifier;
import io.pgrelay.core.classify.ClassifierConfig;
import io.pgrelay.core.classify.Route;
import io.pgrelay.testkit.LocalCluster;
import io.pgrelay.testkit.corpus.Corpus;
import io.pgrelay.testkit.corpus.StandbyOracle;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The classifier against the real cluster: the corpus schema.sql (test-kit) loaded into database
 * {@code corpus} on the primary and replayed by the replicas, the catalog loaded with
 * {@code CatalogLoader} from the primary, and the published corpus plus our extra labelled
 * statements scored as the corpus README says. Also checks the oracle directly: every statement we
 * route to a replica runs on a hot standby (README method) and obtains no transaction id on the
 * primary.
 */
class ClassifierCorpusIT {
    private static LocalCluster cluster;
    private static CatalogSnapshot catalog;
    private static Classifier classifier;

    @BeforeAll
    static void setUp() throws Exception {
        cluster = CorpusDatabase.ensure();
        catalog = CorpusDatabase.loadCatalog(cluster);
        System.out.println(catalog.describe());
        catalog.hazards().forEach((k, v) -> System.out.println("  unsafe " + k + ": " + v));
        classifier = new Classifier(catalog, ClassifierConfig.defaults());
    }

    private static void report(Corpus.Score s, String name) {
        System.out.println(s.summary(name));
        s.unsafeItems().forEach(m -> System.out.println("  UNSAFE " + m));
        s.missedReads().forEach(m -> System.out.println("  not offloaded: " + m));
    }

    @Test
    void publishedCorpusWithLiveCatalog() throws Exception {
        Corpus.Score s = Corpus.score(Corpus.labels(), item -> CorpusDatabase.route(classifier, item));
        report(s, "published corpus, live catalog");
        assertThat(s.unsafeItems()).as("unsafe misroutes").isEmpty();
        assertThat(s.missedReads()).as("reads not offloaded").hasSizeLessThanOrEqualTo(4);
        assertThat(s.offloadRate()).as("offload rate").isGreaterThanOrEqualTo(0.96);
    }

    @Test
    void extraLabelledStatementsWithLiveCatalog() throws Exception {
        Corpus.Score s = Corpus.score(Corpus.read(ExtraLabelsIT.FILE), item -> CorpusDatabase.route(classifier, item));
        report(s, "extra labelled statements, live catalog");
        assertThat(s.unsafeItems()).as("unsafe misroutes").isEmpty();
    }

    @Test
    void everyStatementRoutedToAReplicaRunsOnAStandby() throws Exception {
        StandbyOracle oracle = CorpusDatabase.oracle(cluster);
        List<Corpus.Statement> items = new ArrayList<>(Corpus.labels());
        items.addAll(Corpus.read(ExtraLabelsIT.FILE));
        List<String> failures = new ArrayList<>();
        int checked = 0;
        for (Corpus.Statement item : items) {
            Classification c = CorpusDatabase.classify(classifier, item);
            if (c.route() != Route.REPLICA) {
                continue;
            }
            checked++;
            StandbyOracle.Run standby = oracle.onStandby(item.sql(), item.setup());
            if (!standby.ok() && StandbyOracle.STANDBY_SQLSTATES.contains(standby.sqlState())) {
                failures.add(item.id() + ": standby refused it (" + standby.sqlState() + " " + standby.error() + "): "
                        + item.sql());
            }
            StandbyOracle.Run primary = oracle.onPrimary(item.sql(), item.setup());
            if (primary.assignedXid()) {
                failures.add(item.id() + ": obtained a transaction id on the primary: " + item.sql());
            }
        }
        System.out.println("oracle check: " + checked + " statements routed to a replica, " + failures.size()
                + " problems");
        failures.forEach(f -> System.out.println("  " + f));
        assertThat(failures).isEmpty();
    }
}
