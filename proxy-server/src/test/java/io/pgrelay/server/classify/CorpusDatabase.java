package io.pgrelay.server.classify;

import io.pgrelay.core.classify.CatalogLoader;
import io.pgrelay.core.classify.CatalogSnapshot;
import io.pgrelay.core.classify.Classification;
import io.pgrelay.core.classify.Classifier;
import io.pgrelay.core.classify.Route;
import io.pgrelay.core.classify.Trait;
import io.pgrelay.core.classify.SessionSimulator;
import io.pgrelay.testkit.LocalCluster;
import io.pgrelay.testkit.TestCluster;
import io.pgrelay.testkit.corpus.Corpus;
import io.pgrelay.testkit.corpus.StandbyOracle;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * The database {@code corpus} on the shared test cluster with the corpus schema.sql (test-kit)
 * loaded on the primary and replayed by the replicas, created once per test JVM; and how the
 * classifier routes a corpus statement.
 */
final class CorpusDatabase {
    static final String NAME = "corpus";
    private static boolean loaded;

    private CorpusDatabase() {
    }

    static synchronized LocalCluster ensure() {
        LocalCluster cluster = TestCluster.get();
        if (!loaded) {
            Corpus.createDatabase(cluster, NAME);
            loaded = true;
        }
        return cluster;
    }

    static CatalogSnapshot loadCatalog(LocalCluster cluster) throws SQLException {
        try (Connection c = cluster.primary().connect(NAME, LocalCluster.SUPERUSER, cluster.superuser().password())) {
            return new CatalogLoader().load(c);
        }
    }

    static StandbyOracle oracle(LocalCluster cluster) {
        return new StandbyOracle(cluster, cluster.primary(), cluster.replicas().get(0), NAME);
    }

    /** The classification of a statement as a session sees it: its setup first (EXECUTE resolves). */
    static Classification classify(Classifier classifier, Corpus.Statement item) {
        SessionSimulator session = new SessionSimulator(classifier, true);
        if (item.setup() != null) {
            session.run(item.setup());
        }
        return session.classify(item.sql());
    }

    static Corpus.Routed route(Classifier classifier, Corpus.Statement item) {
        Classification c = classify(classifier, item);
        return new Corpus.Routed(c.route() == Route.REPLICA, c.has(Trait.SERVER_LOCAL_READ),
                c.route() + " (" + c.reason() + ")");
    }
}
