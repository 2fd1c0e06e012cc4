package io.pgrelay.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one {@link LocalCluster} (pg1 primary, pg2 and pg3 replicas) shared by all integration
 * tests of a test JVM. Started lazily by the first {@link #get()}, stopped and deleted at JVM exit
 * by the cluster's shutdown hook.
 *
 * <p>Tests that break the topology (kill, promote, stop) must restore it, e.g. with
 * {@link LocalCluster#resetToInitialTopology()} in an {@code @AfterEach}/{@code @AfterAll}.
 *
 * <p>System properties:
 * <ul>
 *   <li>{@code pgrelay.test.clusterBaseDir}: parent directory for the cluster's data (default:
 *       {@code /dev/shm} when it is a tmpfs with at least 1 GiB free, since creating files there
 *       is much faster than on a disk; otherwise the JVM's temp dir);</li>
 *   <li>{@code pgrelay.test.keepCluster=true}: keep the data directories after the run.</li>
 * </ul>
 * A missing PostgreSQL installation makes {@link #get()} throw with installation instructions;
 * it never skips.
 */
public final class TestCluster {
    private static final Logger log = LoggerFactory.getLogger(TestCluster.class);
    private static final long MIN_TMPFS_FREE = 1L << 30;

    private static LocalCluster cluster;
    private static RuntimeException startFailure;

    private TestCluster() {
    }

    /** The shared cluster, started on first use. A failed start is rethrown on every later call. */
    public static synchronized LocalCluster get() {
        if (cluster != null) {
            return cluster;
        }
        if (startFailure != null) {
            throw new IllegalStateException("the shared test cluster failed to start earlier: "
                    + startFailure.getMessage(), startFailure);
        }
        try {
            LocalClusterBuilder builder = LocalCluster.builder().replicas(2)
                    .baseDir(baseDir())
                    .keepData(Boolean.getBoolean("pgrelay.test.keepCluster"));
            cluster = builder.start();
            log.info("shared test cluster up in {} ms", cluster.startupTime().toMillis());
            return cluster;
        } catch (RuntimeException e) {
            startFailure = e;
            throw e;
        }
    }

    /**
     * A cluster of its own (pg1 primary, pg2 and pg3 replicas) for a test class that changes
     * the topology for good (switchover, failover); the caller closes it in {@code @AfterAll}.
     */
    public static LocalCluster startDedicated() {
        return startDedicated(builder -> builder);
    }

    /**
     * A cluster of its own built as {@code customize} says (fewer replicas, TLS, extra roles) on
     * top of the defaults of {@link #startDedicated()}; the caller closes it in {@code @AfterAll}.
     */
    public static LocalCluster startDedicated(UnaryOperator<LocalClusterBuilder> customize) {
        LocalCluster dedicated = customize.apply(LocalCluster.builder().replicas(2).baseDir(baseDir())
                .keepData(Boolean.getBoolean("pgrelay.test.keepCluster"))).start();
        log.info("dedicated test cluster up in {} ms", dedicated.startupTime().toMillis());
        return dedicated;
    }

    private static Path baseDir() {
        try {
            String configured = System.getProperty("pgrelay.test.clusterBaseDir");
            Path parent;
            if (configured != null && !configured.isBlank()) {
                parent = Path.of(configured);
                Files.createDirectories(parent);
            } else {
                parent = fastTmpfs() ? Path.of("/dev/shm") : Path.of(System.getProperty("java.io.tmpdir"));
            }
            // LocalCluster wants an empty or absent directory: reserve a unique name, then hand it over empty
            return Files.createTempDirectory(parent, "pgrelay-cluster");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the test cluster's base dir", e);
        }
    }

    private static boolean fastTmpfs() {
        Path shm = Path.of("/dev/shm");
        try {
            if (!Files.isDirectory(shm) || !Files.isWritable(shm)) {
                return false;
            }
            FileStore store = Files.getFileStore(shm);
            return "tmpfs".equals(store.type()) && store.getUsableSpace() >= MIN_TMPFS_FREE;
        } catch (IOException e) {
            return false;
        }
    }
}
