package io.pgrelay.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static io.pgrelay.testkit.LocalCluster.HOST;
import static io.pgrelay.testkit.LocalCluster.SUPERUSER;

/**
 * Brings up a new {@link LocalCluster}: picks the nodes' ports and socket directories, runs initdb
 * on pg1, creates the configured roles and databases there, and base-backs-up and starts the
 * replicas.
 */
final class ClusterBootstrap {
    private static final Logger log = LoggerFactory.getLogger(ClusterBootstrap.class);

    private final LocalCluster cluster;
    private final List<LocalNode> nodes;
    private final List<Path> extraDirs;

    /**
     * {@code nodes} and {@code extraDirs} are the cluster's own lists, filled as the nodes are made,
     * so that closing the cluster after a failed start stops and deletes whatever exists by then.
     */
    ClusterBootstrap(LocalCluster cluster, List<LocalNode> nodes, List<Path> extraDirs) {
        this.cluster = cluster;
        this.nodes = nodes;
        this.extraDirs = extraDirs;
    }

    /** Makes the nodes, initdb and starts pg1 with the roles and databases, then the replicas. */
    void run(LocalClusterBuilder b) {
        Path baseDir = cluster.baseDir();
        int count = 1 + b.replicas;
        Set<Integer> taken = new HashSet<>();
        for (int i = 0; i < count; i++) {
            String name = "pg" + (i + 1);
            Path nodeDir = baseDir.resolve(name);
            int port;
            boolean fixed;
            if (b.ports != null) {
                port = b.ports[i];
                fixed = true;
            } else if (b.basePort > 0) {
                port = b.basePort + i;
                fixed = true;
            } else {
                port = OsSupport.pickFreePort(taken);
                fixed = false;
            }
            if (fixed && !OsSupport.isPortFree(port)) {
                throw new LocalClusterException("port " + port + " for " + name + " on " + HOST
                        + " is already in use; choose other ports or let LocalCluster pick free ones");
            }
            taken.add(port);
            nodes.add(new LocalNode(cluster, name, nodeDir, socketDirFor(nodeDir), port, fixed));
        }
        log.info("starting PostgreSQL {} cluster ({} + {} replicas) in {} with binaries from {}{}",
                cluster.serverVersion(), 1, b.replicas, baseDir, cluster.binDir(),
                cluster.os().serverUser().map(u -> ", running servers as OS user " + u).orElse(""));

        LocalNode primary = nodes.get(0);
        primary.files().initPrimary();
        primary.start(true);
        createRolesAndDatabases(primary);
        startReplicasInParallel(primary, nodes.subList(1, nodes.size()));
    }

    /** Base backup, start and streaming check of each replica, all replicas at once. */
    private void startReplicasInParallel(LocalNode primary, List<LocalNode> replicas) {
        if (replicas.isEmpty()) {
            return;
        }
        ExecutorService pool = Executors.newFixedThreadPool(replicas.size(), r -> {
            Thread t = new Thread(r, "pgrelay-localcluster-start");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (LocalNode replica : replicas) {
                futures.add(pool.submit(() -> {
                    replica.files().baseBackupFrom(primary);
                    replica.start(true);
                    replica.replication().waitUntilStreamingFrom(primary, Duration.ofSeconds(60));
                }));
            }
            RuntimeException failure = null;
            for (Future<?> f : futures) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    RuntimeException cause = e.getCause() instanceof RuntimeException re ? re
                            : new LocalClusterException("replica start failed", e.getCause());
                    if (failure == null) {
                        failure = cause;
                    } else {
                        failure.addSuppressed(cause);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new LocalClusterException("interrupted while starting replicas", e);
                }
            }
            if (failure != null) {
                throw failure;
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** The node dir when the socket path fits (sun_path is 108 bytes), else a short dir under /tmp. */
    private Path socketDirFor(Path nodeDir) {
        String socketPath = nodeDir + "/.s.PGSQL.65535.lock";
        if (socketPath.getBytes(StandardCharsets.UTF_8).length <= 100) {
            return nodeDir;
        }
        try {
            Path dir = Files.createTempDirectory(Path.of("/tmp"), "pgrelay-s");
            extraDirs.add(dir);
            cluster.os().createServerDirectory(dir);
            log.info("{} is too long for a Unix socket path; sockets go to {}", nodeDir, dir);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a socket directory under /tmp", e);
        }
    }

    private void createRolesAndDatabases(LocalNode primary) {
        List<ClusterUser> users = cluster.users();
        Map<String, String> databases = cluster.databases();
        log.info("{}: creating roles {} and databases {}", primary.name(),
                users.stream().map(ClusterUser::name).toList(), databases.keySet());
        try (Connection c = primary.adminConnection(LocalNode.ADMIN_DB); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE " + LocalNode.MARKER_TABLE + " (token text PRIMARY KEY, written_on text, "
                    + "for_node text, created_at timestamptz NOT NULL DEFAULT now())");
            for (ClusterUser u : users) {
                st.execute("SET password_encryption = " + LocalNode.sqlLiteral(u.method().pgName()));
                String ident = "\"" + u.name() + "\"";
                if (u.name().equals(SUPERUSER)) {
                    st.execute("ALTER ROLE " + ident + " PASSWORD " + LocalNode.sqlLiteral(u.password()));
                } else {
                    st.execute("CREATE ROLE " + ident + " LOGIN " + (u.superuser() ? "SUPERUSER" : "NOSUPERUSER")
                            + " PASSWORD " + LocalNode.sqlLiteral(u.password()));
                }
            }
            st.execute("RESET password_encryption");
            for (Map.Entry<String, String> db : databases.entrySet()) {
                st.execute("CREATE DATABASE \"" + db.getKey() + "\" OWNER \"" + db.getValue() + "\"");
            }
        } catch (SQLException e) {
            throw new LocalClusterException(primary.name() + ": creating roles and databases failed: "
                    + e.getMessage(), e);
        }
        for (Map.Entry<String, String> db : databases.entrySet()) {
            try (Connection c = primary.adminConnection(db.getKey()); Statement st = c.createStatement()) {
                Set<String> grantees = new LinkedHashSet<>();
                grantees.add(db.getValue());
                users.stream().filter(u -> !u.superuser()).forEach(u -> grantees.add(u.name()));
                for (String grantee : grantees) {
                    st.execute("GRANT CREATE, USAGE ON SCHEMA public TO \"" + grantee + "\"");
                }
            } catch (SQLException e) {
                throw new LocalClusterException(primary.name() + ": granting on " + db.getKey() + " failed: "
                        + e.getMessage(), e);
            }
        }
    }
}
