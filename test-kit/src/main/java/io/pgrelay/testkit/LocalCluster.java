package io.pgrelay.testkit;

import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A PostgreSQL primary plus N streaming replicas (default 2) started from the locally installed
 * server binaries on free loopback ports. Used by the integration tests and by
 * {@code pgrelay demo}.
 *
 * <pre>{@code
 * try (LocalCluster cluster = LocalCluster.builder().replicas(2).start()) {
 *     try (Connection c = cluster.primary().connect("app", "app", "app")) { ... }
 * }
 * }</pre>
 *
 * <p>Nodes are named pg1, pg2, ...; pg1 starts as the primary, the others stream from it through
 * physical replication slots named after them. When the JVM runs as root, every server command
 * runs as the OS user {@code postgres} (PostgreSQL refuses to run as root).
 *
 * <p>Default roles: superuser {@code postgres/postgres} (SCRAM), {@code app/app} (SCRAM, owns
 * database {@code app}), {@code app_md5/app_md5} (password stored as MD5, {@code md5} in
 * pg_hba.conf). Every configured non-superuser role gets CREATE and USAGE on schema
 * {@code public} of every configured database.
 *
 * <p>{@link #close()} stops every node immediately and deletes the base directory (unless
 * {@code keepData}); a JVM shutdown hook does the same if {@code close()} was never called.
 */
public final class LocalCluster implements AutoCloseable {
    private final java.util.concurrent.atomic.AtomicInteger resets = new java.util.concurrent.atomic.AtomicInteger();
    private static final Logger log = LoggerFactory.getLogger(LocalCluster.class);

    /** The bootstrap superuser created by initdb; the cluster's own bookkeeping connects as it. */
    public static final String SUPERUSER = "postgres";
    public static final String HOST = OsSupport.LOOPBACK;

    private final Path baseDir;
    private final boolean keepData;
    private final Path binDir;
    private final OsSupport os;
    private final List<ClusterUser> users;
    private final Map<String, String> databases;
    private final Map<String, String> settings;
    private final ServerTls serverTls;
    private final List<LocalNode> nodes = new ArrayList<>();
    private final List<Path> extraDirs = new ArrayList<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Thread shutdownHook;
    private final String serverVersion;
    private final int serverVersionNum;
    private volatile Duration startupTime = Duration.ZERO;

    LocalCluster(LocalClusterBuilder b, Path binDir, OsSupport os, Path baseDir, String serverVersion) {
        this.binDir = binDir;
        this.os = os;
        this.baseDir = baseDir;
        this.keepData = b.keepData;
        this.users = List.copyOf(b.users.values());
        this.databases = Collections.unmodifiableMap(new LinkedHashMap<>(b.databases));
        this.settings = Collections.unmodifiableMap(new LinkedHashMap<>(b.settings));
        this.serverTls = b.serverTls;
        this.serverVersion = serverVersion;
        this.serverVersionNum = parseVersionNum(serverVersion);
        if (b.closeOnJvmExit) {
            this.shutdownHook = new Thread(this::closeFromShutdownHook, "pgrelay-localcluster-shutdown");
            Runtime.getRuntime().addShutdownHook(shutdownHook);
        } else {
            this.shutdownHook = null;
        }
    }

    /** A builder with the defaults described in the class comment. */
    public static LocalClusterBuilder builder() {
        return new LocalClusterBuilder();
    }

    /** Starts a cluster with all defaults (pg1 primary, pg2 and pg3 replicas, temp base dir). */
    public static LocalCluster start() {
        return builder().start();
    }

    /**
     * The directory holding the PostgreSQL server binaries: env {@code PG_BIN}, then
     * {@code pg_config --bindir} (if it holds initdb and postgres), then the highest
     * {@code /usr/lib/postgresql/<version>/bin}, then {@code PATH}.
     */
    public static Optional<Path> findBinDir() {
        return PgBinaries.find();
    }

    // ------------------------------------------------------------------ accessors

    public Path baseDir() {
        return baseDir;
    }

    public Path binDir() {
        return binDir;
    }

    /** e.g. "15.8" (from {@code postgres --version}). */
    public String serverVersion() {
        return serverVersion;
    }

    /** e.g. 150008, like {@code server_version_num}. */
    public int serverVersionNum() {
        return serverVersionNum;
    }

    /** How long {@link LocalClusterBuilder#start()} took. */
    public Duration startupTime() {
        return startupTime;
    }

    /** All nodes in name order (pg1 first), whatever their current role or state. */
    public List<LocalNode> nodes() {
        return List.copyOf(nodes);
    }

    /** The node called {@code name} (pg1, pg2, ...). */
    public LocalNode node(String name) {
        return nodes.stream().filter(n -> n.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no node " + name + "; nodes: "
                        + nodes.stream().map(LocalNode::name).toList()));
    }

    /** The configured roles (including the superuser). */
    public List<ClusterUser> users() {
        return users;
    }

    public ClusterUser user(String name) {
        return users.stream().filter(u -> u.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no user " + name));
    }

    /** The bootstrap superuser {@code postgres}. */
    public ClusterUser superuser() {
        return user(SUPERUSER);
    }

    /** Configured databases: name to owner. */
    public Map<String, String> databases() {
        return databases;
    }

    OsSupport os() {
        return os;
    }

    /** TLS on the nodes, or null when they run without ({@link LocalClusterBuilder#serverTls(ServerTls)}). */
    ServerTls serverTls() {
        return serverTls;
    }

    Set<Integer> portsInUse() {
        Set<Integer> ports = new HashSet<>();
        for (LocalNode n : nodes) {
            ports.add(n.port());
        }
        return ports;
    }

    // ------------------------------------------------------------------ topology

    /**
     * The node that is currently running and not in recovery (found by querying each node).
     *
     * @throws LocalClusterException if there is none, or more than one (split brain)
     */
    public LocalNode primary() {
        List<LocalNode> primaries = new ArrayList<>();
        for (LocalNode n : nodes) {
            if (isUp(n) && !inRecoveryOrTrue(n)) {
                primaries.add(n);
            }
        }
        if (primaries.size() == 1) {
            return primaries.get(0);
        }
        throw new LocalClusterException((primaries.isEmpty() ? "no primary" : "more than one primary: "
                + primaries.stream().map(LocalNode::name).toList()) + "\n" + describe());
    }

    /** Running, not suspended nodes that are in recovery, in name order. */
    public List<LocalNode> replicas() {
        List<LocalNode> replicas = new ArrayList<>();
        for (LocalNode n : nodes) {
            if (isUp(n)) {
                try {
                    if (n.isInRecovery()) {
                        replicas.add(n);
                    }
                } catch (LocalClusterException e) {
                    log.debug("{} unreachable: {}", n.name(), e.getMessage());
                }
            }
        }
        return replicas;
    }

    static boolean isUp(LocalNode n) {
        return !n.isSuspended() && n.isRunning();
    }

    static boolean inRecoveryOrTrue(LocalNode n) {
        try {
            return n.isInRecovery();
        } catch (LocalClusterException e) {
            return true;
        }
    }

    /** Waits until every {@link #replicas() replica} has replayed the primary's current WAL position. */
    public void waitForReplication(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        LocalNode primary = primary();
        String lsn = primary.currentWalLsn();
        for (LocalNode replica : replicas()) {
            long left = Math.max(0, deadline - System.nanoTime());
            replica.waitForReplay(lsn, Duration.ofNanos(left));
        }
    }

    /** Runs {@code sql} on the primary as the superuser, in database {@code db}. */
    public void execute(String db, String sql) {
        LocalNode primary = primary();
        try (Connection c = primary.adminConnection(db); Statement st = c.createStatement()) {
            st.execute(sql);
        } catch (SQLException e) {
            throw new LocalClusterException("on " + primary.name() + " (" + db + "): " + e.getMessage()
                    + " in: " + sql, e);
        }
    }

    /**
     * Best-effort restore of the initial topology after destructive operations: resumes
     * suspended nodes, starts stopped ones, makes pg1 the primary again (following the newest
     * primary first when another node was promoted), makes every other node a replica streaming
     * from pg1 (repointing, or rebuilding from a fresh base backup when that fails), resumes
     * paused replay, resets settings changed through {@link LocalNode#setConf} and waits for
     * replication. Writes made on a diverged primary may be discarded.
     */
    public synchronized void resetToInitialTopology() {
        resets.incrementAndGet();
        new TopologyReset(this, nodes).run();
    }

    /**
     * How many times {@link #resetToInitialTopology()} ran: whoever watched the cluster
     * meanwhile (a proxy that fenced a node during a split brain) may hold a stale view.
     */
    public int resets() {
        return resets.get();
    }

    /** One line per node: name, address, role and postmaster PID. Never throws. */
    public String describe() {
        StringBuilder sb = new StringBuilder("LocalCluster ").append(baseDir).append(" (PostgreSQL ")
                .append(serverVersion).append(')');
        for (LocalNode n : List.copyOf(nodes)) {
            sb.append("\n  ").append(n.name()).append(' ').append(n.host()).append(':').append(n.port())
                    .append(' ');
            try {
                sb.append(n.role());
                if (n.isRunning()) {
                    sb.append(" pid=").append(n.readPid());
                }
            } catch (RuntimeException e) {
                sb.append("unknown (").append(e.getMessage()).append(')');
            }
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return "LocalCluster[" + baseDir + ", " + nodes.stream().map(LocalNode::toString).toList() + "]";
    }

    // ------------------------------------------------------------------ configuration files

    String commonConf() {
        Map<String, String> conf = new LinkedHashMap<>();
        conf.put("listen_addresses", "'" + HOST + "'");
        conf.put("max_connections", "200");
        conf.put("shared_buffers", "'32MB'");
        conf.put("password_encryption", "'scram-sha-256'");
        conf.put("wal_level", "replica");
        conf.put("max_wal_senders", "10");
        conf.put("max_replication_slots", "10");
        conf.put("wal_keep_size", "'64MB'");
        conf.put("max_slot_wal_keep_size", "'1GB'");
        conf.put("hot_standby", "on");
        conf.put("hot_standby_feedback", "on");
        conf.put("wal_receiver_status_interval", "'1s'");
        conf.put("wal_retrieve_retry_interval", "'1s'");
        conf.put("fsync", "off");
        conf.put("synchronous_commit", "on");
        conf.put("full_page_writes", "on");
        conf.put("logging_collector", "off");
        conf.put("log_min_messages", "warning");
        conf.put("huge_pages", "off");
        conf.put("jit", "off");
        if (serverTls != null) {
            conf.put("ssl", "on");
            conf.put("ssl_cert_file", LocalNode.confQuote(ServerTls.CERT_FILE));
            conf.put("ssl_key_file", LocalNode.confQuote(ServerTls.KEY_FILE));
            conf.put("ssl_ca_file", LocalNode.confQuote(ServerTls.CA_FILE));
        }
        for (Map.Entry<String, String> e : settings.entrySet()) {
            conf.put(e.getKey(), LocalNode.confQuote(e.getValue()));
        }
        StringBuilder sb = new StringBuilder("# written by pgrelay LocalCluster; shared by all nodes\n");
        conf.forEach((k, v) -> sb.append(k).append(" = ").append(v).append('\n'));
        return sb.toString();
    }

    String hbaConf() {
        ClusterUser su = superuser();
        StringBuilder sb = new StringBuilder("# written by pgrelay LocalCluster\n")
                .append("# TYPE  DATABASE     USER            ADDRESS          METHOD\n")
                .append("local   all          all                              trust\n")
                .append("local   replication  all                              trust\n")
                .append(String.format("host    replication  %-15s %-16s %s%n", su.name(), HOST + "/32",
                        su.method().pgName()));
        if (serverTls != null) {
            for (String user : serverTls.certificateUsers()) {
                sb.append(String.format("hostssl all          %-15s %-16s cert%n", user, HOST + "/32"));
            }
        }
        for (ClusterUser u : users) {
            if (u.method() == ClusterUser.AuthMethod.MD5) {
                sb.append(String.format("host    all          %-15s %-16s md5%n", u.name(), HOST + "/32"));
            }
        }
        sb.append(String.format("host    all          %-15s %-16s scram-sha-256%n", "all", HOST + "/32"));
        return sb.toString();
    }

    // ------------------------------------------------------------------ start-up

    /** Creates and starts the nodes, roles and databases; once, from {@link LocalClusterBuilder#start()}. */
    void bootstrap(LocalClusterBuilder b) {
        long t0 = System.nanoTime();
        new ClusterBootstrap(this, nodes, extraDirs).run(b);
        startupTime = Duration.ofNanos(System.nanoTime() - t0);
        log.info("cluster started in {} ms:\n{}", startupTime.toMillis(), describe());
    }

    // ------------------------------------------------------------------ shutdown

    /**
     * Stops every node immediately and deletes the base directory unless {@code keepData}.
     * Idempotent; also run by a JVM shutdown hook.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        if (shutdownHook != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException e) {
                // the JVM is already shutting down
            }
        }
        shutdownNodesAndCleanUp();
    }

    /** Whether {@link #close()} ran. */
    public boolean isClosed() {
        return closed.get();
    }

    private void closeFromShutdownHook() {
        if (closed.compareAndSet(false, true)) {
            shutdownNodesAndCleanUp();
        }
    }

    private void shutdownNodesAndCleanUp() {
        List<LocalNode> reversed = new ArrayList<>(nodes);
        Collections.reverse(reversed);
        for (LocalNode n : reversed) {
            try {
                n.emergencyStop();
            } catch (RuntimeException e) {
                log.error("{}: could not stop the server: {}", n.name(), e.toString());
            }
        }
        if (keepData) {
            log.info("cluster stopped; data kept in {}", baseDir);
            return;
        }
        try {
            OsSupport.deleteRecursively(baseDir);
            for (Path dir : extraDirs) {
                OsSupport.deleteRecursively(dir);
            }
            log.info("cluster stopped; deleted {}", baseDir);
        } catch (IOException | RuntimeException e) {
            log.warn("cannot delete {}: {}", baseDir, e.toString());
        }
    }

    // ------------------------------------------------------------------ helpers

    private static int parseVersionNum(String version) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)(?:\\.(\\d+))?").matcher(version);
        if (!m.find()) {
            return 0;
        }
        int major = Integer.parseInt(m.group(1));
        int minor = m.group(2) == null ? 0 : Integer.parseInt(m.group(2));
        return major >= 10 ? major * 10000 + minor : major * 10000 + minor * 100;
    }
}
