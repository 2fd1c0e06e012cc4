package io.pgrelay.server.classify;

import io.pgrelay.core.classify.CatalogLoader;
import io.pgrelay.core.classify.CatalogSnapshot;
import io.pgrelay.testkit.LocalCluster;
import io.pgrelay.testkit.LocalNode;
import io.pgrelay.testkit.Processes;
import io.pgrelay.testkit.TestCluster;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The database {@code corpus} on the shared test cluster with ../shared/corpus/schema.sql loaded on
 * the primary (through psql, which the file needs for {@code \set}) and replayed by the replicas.
 * Created once per test JVM.
 */
final class CorpusDatabase {
    static final String NAME = "corpus";
    static final Path SCHEMA = Path.of("../../shared/corpus/schema.sql");
    static final Path LABELS = Path.of("../../shared/corpus/labels.jsonl");
    private static boolean loaded;

    private CorpusDatabase() {
    }

    static synchronized LocalCluster ensure() {
        LocalCluster cluster = TestCluster.get();
        if (loaded) {
            return cluster;
        }
        if (!Files.isRegularFile(SCHEMA) || !Files.isRegularFile(LABELS)) {
            throw new AssertionError("the labelled corpus is missing: expected " + SCHEMA.toAbsolutePath().normalize()
                    + " and labels.jsonl (the repository's sibling folder shared/)");
        }
        cluster.execute("postgres", "DROP DATABASE IF EXISTS " + NAME + " WITH (FORCE)");
        cluster.execute("postgres", "CREATE DATABASE " + NAME);
        LocalNode primary = cluster.primary();
        Processes.Result r = Processes.run(List.of(Processes.pgProgram("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                "-h", primary.host(), "-p", Integer.toString(primary.port()), "-U", LocalCluster.SUPERUSER,
                "-d", NAME, "-f", SCHEMA.toAbsolutePath().toString()),
                Map.of("PGPASSWORD", cluster.superuser().password()), null, Duration.ofMinutes(2));
        if (r.exitCode() != 0) {
            throw new AssertionError("loading schema.sql failed:\n" + r.output());
        }
        cluster.waitForReplication(Duration.ofSeconds(60));
        loaded = true;
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
}
