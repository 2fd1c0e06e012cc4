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
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

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

    private LocalCluster(Builder b, Path binDir, OsSupport os, Path baseDir, String serverVersion) {
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
    public static Builder builder() {
        return new Builder();
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

    /** How long {@link Builder#start()} took. */
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

    /** TLS on the nodes, or null when they run without ({@link Builder#serverTls}). */
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

    private void bootstrap(Builder b) {
        long t0 = System.nanoTime();
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
            nodes.add(new LocalNode(this, name, nodeDir, socketDirFor(nodeDir), port, fixed));
        }
        log.info("starting PostgreSQL {} cluster ({} + {} replicas) in {} with binaries from {}{}", serverVersion,
                1, b.replicas, baseDir, binDir, os.serverUser().map(u -> ", running servers as OS user " + u)
                        .orElse(""));

        LocalNode primary = nodes.get(0);
        primary.files().initPrimary();
        primary.start(true);
        createRolesAndDatabases(primary);
        startReplicasInParallel(primary, nodes.subList(1, nodes.size()));
        startupTime = Duration.ofNanos(System.nanoTime() - t0);
        log.info("cluster started in {} ms:\n{}", startupTime.toMillis(), describe());
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
            os.createServerDirectory(dir);
            log.info("{} is too long for a Unix socket path; sockets go to {}", nodeDir, dir);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a socket directory under /tmp", e);
        }
    }

    private void createRolesAndDatabases(LocalNode primary) {
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
                Set<String> grantees = new java.util.LinkedHashSet<>();
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

    /** Configures and starts a {@link LocalCluster}. */
    public static final class Builder {
        private int replicas = 2;
        private Path baseDir;
        private boolean keepData;
        private boolean closeOnJvmExit = true;
        private int[] ports;
        private int basePort;
        private Path binDir;
        private String osUser = "postgres";
        private final Map<String, ClusterUser> users = new LinkedHashMap<>();
        private final Map<String, String> databases = new LinkedHashMap<>();
        private final Map<String, String> settings = new LinkedHashMap<>();
        private ServerTls serverTls;

        private Builder() {
            user(new ClusterUser(SUPERUSER, "postgres", ClusterUser.AuthMethod.SCRAM, true));
            user(ClusterUser.scram("app", "app"));
            user(ClusterUser.md5("app_md5", "app_md5"));
            database("app", "app");
        }

        /** Number of streaming replicas (0-9, default 2). */
        public Builder replicas(int replicas) {
            if (replicas < 0 || replicas > 9) {
                throw new IllegalArgumentException("replicas must be between 0 and 9: " + replicas);
            }
            this.replicas = replicas;
            return this;
        }

        /**
         * Directory for the nodes' data (must be empty or absent; deleted on close unless
         * {@link #keepData}). Default: a fresh {@code Files.createTempDirectory("pgrelay-cluster")}.
         */
        public Builder baseDir(Path baseDir) {
            this.baseDir = baseDir;
            return this;
        }

        /** Keep the base directory on close (default false). */
        public Builder keepData(boolean keepData) {
            this.keepData = keepData;
            return this;
        }

        /**
         * Whether a JVM shutdown hook closes the cluster if {@link #close()} was not called
         * (default true). An owner whose own shutdown hook must stop other things first (a proxy in
         * front of the cluster) turns it off and closes the cluster itself.
         */
        public Builder closeOnJvmExit(boolean closeOnJvmExit) {
            this.closeOnJvmExit = closeOnJvmExit;
            return this;
        }

        /** Fixed ports for pg1, pg2, ... (one per node). Default: free ephemeral ports. */
        public Builder ports(int... ports) {
            this.ports = ports.clone();
            this.basePort = 0;
            return this;
        }

        /** Fixed ports basePort, basePort+1, ... for pg1, pg2, ... */
        public Builder basePort(int basePort) {
            if (basePort <= 0 || basePort > 65525) {
                throw new IllegalArgumentException("bad base port " + basePort);
            }
            this.basePort = basePort;
            this.ports = null;
            return this;
        }

        /** Directory with initdb, postgres, pg_ctl and pg_basebackup (default: {@link #findBinDir()}). */
        public Builder pgBin(Path binDir) {
            this.binDir = binDir;
            return this;
        }

        /** OS user the servers run as when the JVM is root (default "postgres"). */
        public Builder osUser(String osUser) {
            this.osUser = osUser;
            return this;
        }

        /** Adds a role, replacing a configured role of the same name. */
        public Builder user(ClusterUser user) {
            users.put(user.name(), user);
            return this;
        }

        /** Adds a role, replacing a configured role of the same name. */
        public Builder user(String name, String password, ClusterUser.AuthMethod method, boolean superuser) {
            return user(new ClusterUser(name, password, method, superuser));
        }

        /**
         * Removes all roles except the superuser {@code postgres}, which the cluster needs (its
         * password and method may be changed with {@link #user}).
         */
        public Builder clearUsers() {
            users.keySet().removeIf(n -> !n.equals(SUPERUSER));
            return this;
        }

        /** Adds a database owned by {@code owner} (default: database app owned by app). */
        public Builder database(String name, String owner) {
            if (!name.matches("[a-z_][a-z0-9_]{0,62}")) {
                throw new IllegalArgumentException("database name must match [a-z_][a-z0-9_]*: " + name);
            }
            databases.put(name, owner);
            return this;
        }

        public Builder clearDatabases() {
            databases.clear();
            return this;
        }

        /** An extra postgresql.conf setting for every node (value is quoted as a string). */
        public Builder setting(String key, String value) {
            if (!key.matches("[A-Za-z_][A-Za-z0-9_.]*")) {
                throw new IllegalArgumentException("not a configuration parameter name: " + key);
            }
            settings.put(key, value);
            return this;
        }

        /** TLS on every node, optionally with roles that log in with a client certificate (default: none). */
        public Builder serverTls(ServerTls serverTls) {
            this.serverTls = serverTls;
            return this;
        }

        /** Starts the cluster; on failure everything started so far is stopped and deleted. */
        public LocalCluster start() {
            int count = replicas + 1;
            if (ports != null && ports.length != count) {
                throw new IllegalArgumentException("ports: expected " + count + " ports, got " + ports.length);
            }
            ClusterUser su = users.get(SUPERUSER);
            if (su == null || !su.superuser()) {
                throw new IllegalArgumentException("user " + SUPERUSER + " must be a superuser");
            }
            if (serverTls != null) {
                for (String user : serverTls.certificateUsers()) {
                    if (!users.containsKey(user)) {
                        throw new IllegalArgumentException("certificate user " + user + " is not a configured user");
                    }
                }
            }
            for (Map.Entry<String, String> db : databases.entrySet()) {
                if (!users.containsKey(db.getValue())) {
                    throw new IllegalArgumentException("owner " + db.getValue() + " of database " + db.getKey()
                            + " is not a configured user");
                }
            }
            Path bin = binDir != null ? PgBinaries.requireUsable(binDir) : PgBinaries.require();
            OsSupport os = OsSupport.create(osUser);
            OsSupport.CommandResult version = os.runAsServer(List.of(bin.resolve("postgres").toString(), "--version"),
                    Map.of(), Path.of("/"), Duration.ofSeconds(30));
            if (!version.ok()) {
                throw new LocalClusterException("cannot run " + bin.resolve("postgres") + ": " + version.describe());
            }
            String versionText = version.output().strip().replaceFirst("^postgres \\(PostgreSQL\\) ", "");
            Path base = prepareBaseDir(os);
            LocalCluster cluster = new LocalCluster(this, bin, os, base, versionText);
            try {
                cluster.bootstrap(this);
                return cluster;
            } catch (RuntimeException | Error e) {
                log.error("cluster start failed: {}", e.getMessage());
                try {
                    cluster.close();
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
        }

        private Path prepareBaseDir(OsSupport os) {
            try {
                Path base;
                boolean defaulted = baseDir == null;
                if (defaulted) {
                    base = Files.createTempDirectory("pgrelay-cluster");
                } else {
                    base = baseDir.toAbsolutePath().normalize();
                    if (Files.exists(base)) {
                        try (Stream<Path> entries = Files.list(base)) {
                            if (entries.findAny().isPresent()) {
                                throw new LocalClusterException("base dir " + base + " is not empty; "
                                        + "remove it or choose another");
                            }
                        }
                    }
                    Files.createDirectories(base);
                }
                if (os.serverUser().isEmpty()) {
                    return base;
                }
                OsSupport.makeTraversable(base);
                if (os.serverCanTraverse(base)) {
                    return base;
                }
                String user = os.serverUser().get();
                if (defaulted) {
                    Files.delete(base);
                    Path fallback = Files.createTempDirectory(Path.of("/tmp"), "pgrelay-cluster");
                    OsSupport.makeTraversable(fallback);
                    if (os.serverCanTraverse(fallback)) {
                        log.info("OS user {} cannot reach {}; using {}", user, base.getParent(), fallback);
                        return fallback;
                    }
                    base = fallback;
                }
                throw new LocalClusterException("OS user " + user + " cannot reach base dir " + base
                        + ": every parent directory must be searchable by it (chmod o+x), or choose a base dir "
                        + "under /tmp");
            } catch (IOException e) {
                throw new UncheckedIOException("cannot prepare the base dir", e);
            }
        }
    }
}
