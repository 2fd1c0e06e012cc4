package io.pgrelay.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static io.pgrelay.testkit.LocalCluster.SUPERUSER;

/**
 * Configures and starts a {@link LocalCluster} ({@link LocalCluster#builder()}); the defaults are
 * described there.
 */
public final class LocalClusterBuilder {
    private static final Logger log = LoggerFactory.getLogger(LocalClusterBuilder.class);

    // package-private: LocalCluster and ClusterBootstrap read them while start() runs
    int replicas = 2;
    private Path baseDir;
    boolean keepData;
    boolean closeOnJvmExit = true;
    int[] ports;
    int basePort;
    private Path binDir;
    private String osUser = "postgres";
    final Map<String, ClusterUser> users = new LinkedHashMap<>();
    final Map<String, String> databases = new LinkedHashMap<>();
    final Map<String, String> settings = new LinkedHashMap<>();
    ServerTls serverTls;

    LocalClusterBuilder() {
        user(new ClusterUser(SUPERUSER, "postgres", ClusterUser.AuthMethod.SCRAM, true));
        user(ClusterUser.scram("app", "app"));
        user(ClusterUser.md5("app_md5", "app_md5"));
        database("app", "app");
    }

    /** Number of streaming replicas (0-9, default 2). */
    public LocalClusterBuilder replicas(int replicas) {
        if (replicas < 0 || replicas > 9) {
            throw new IllegalArgumentException("replicas must be between 0 and 9: " + replicas);
        }
        this.replicas = replicas;
        return this;
    }

    /**
     * Directory for the nodes' data (must be empty or absent; deleted on close unless
     * {@link #keepData(boolean)}). Default: a fresh {@code Files.createTempDirectory("pgrelay-cluster")}.
     */
    public LocalClusterBuilder baseDir(Path baseDir) {
        this.baseDir = baseDir;
        return this;
    }

    /** Keep the base directory on close (default false). */
    public LocalClusterBuilder keepData(boolean keepData) {
        this.keepData = keepData;
        return this;
    }

    /**
     * Whether a JVM shutdown hook closes the cluster if {@link LocalCluster#close()} was not called
     * (default true). An owner whose own shutdown hook must stop other things first (a proxy in
     * front of the cluster) turns it off and closes the cluster itself.
     */
    public LocalClusterBuilder closeOnJvmExit(boolean closeOnJvmExit) {
        this.closeOnJvmExit = closeOnJvmExit;
        return this;
    }

    /** Fixed ports for pg1, pg2, ... (one per node). Default: free ephemeral ports. */
    public LocalClusterBuilder ports(int... ports) {
        this.ports = ports.clone();
        this.basePort = 0;
        return this;
    }

    /** Fixed ports basePort, basePort+1, ... for pg1, pg2, ... */
    public LocalClusterBuilder basePort(int basePort) {
        if (basePort <= 0 || basePort > 65525) {
            throw new IllegalArgumentException("bad base port " + basePort);
        }
        this.basePort = basePort;
        this.ports = null;
        return this;
    }

    /** Directory with initdb, postgres, pg_ctl and pg_basebackup (default: {@link LocalCluster#findBinDir()}). */
    public LocalClusterBuilder pgBin(Path binDir) {
        this.binDir = binDir;
        return this;
    }

    /** OS user the servers run as when the JVM is root (default "postgres"). */
    public LocalClusterBuilder osUser(String osUser) {
        this.osUser = osUser;
        return this;
    }

    /** Adds a role, replacing a configured role of the same name. */
    public LocalClusterBuilder user(ClusterUser user) {
        users.put(user.name(), user);
        return this;
    }

    /** Adds a role, replacing a configured role of the same name. */
    public LocalClusterBuilder user(String name, String password, ClusterUser.AuthMethod method, boolean superuser) {
        return user(new ClusterUser(name, password, method, superuser));
    }

    /**
     * Removes all roles except the superuser {@code postgres}, which the cluster needs (its
     * password and method may be changed with {@link #user}).
     */
    public LocalClusterBuilder clearUsers() {
        users.keySet().removeIf(n -> !n.equals(SUPERUSER));
        return this;
    }

    /** Adds a database owned by {@code owner} (default: database app owned by app). */
    public LocalClusterBuilder database(String name, String owner) {
        if (!name.matches("[a-z_][a-z0-9_]{0,62}")) {
            throw new IllegalArgumentException("database name must match [a-z_][a-z0-9_]*: " + name);
        }
        databases.put(name, owner);
        return this;
    }

    public LocalClusterBuilder clearDatabases() {
        databases.clear();
        return this;
    }

    /** An extra postgresql.conf setting for every node (value is quoted as a string). */
    public LocalClusterBuilder setting(String key, String value) {
        if (!key.matches("[A-Za-z_][A-Za-z0-9_.]*")) {
            throw new IllegalArgumentException("not a configuration parameter name: " + key);
        }
        settings.put(key, value);
        return this;
    }

    /** TLS on every node, optionally with roles that log in with a client certificate (default: none). */
    public LocalClusterBuilder serverTls(ServerTls serverTls) {
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
