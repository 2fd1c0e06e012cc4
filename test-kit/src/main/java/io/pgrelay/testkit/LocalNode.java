package io.pgrelay.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One PostgreSQL server of a {@link LocalCluster}: its data directory, port and lifecycle.
 *
 * <p>Lifecycle operations ({@link #start()}, {@link #stop()}, {@link #kill9()}, ...) are
 * synchronized per node. Query helpers connect as the cluster superuser over TCP with short
 * timeouts; they refuse to talk to a node suspended with {@link #sigstop()}.
 */
public final class LocalNode {
    private static final Logger log = LoggerFactory.getLogger(LocalNode.class);
    private static final Driver DRIVER = new org.postgresql.Driver();
    private static final Duration STREAMING_TIMEOUT = Duration.ofSeconds(60);

    static final String ADMIN_DB = "postgres";
    static final String MARKER_TABLE = "pgrelay_localcluster_marker";
    static final String COMMON_CONF = "pgrelay.conf";
    static final String NODE_CONF = "pgrelay-node.conf";

    private final LocalCluster cluster;
    private final String name;
    private final Path nodeDir;
    private final Path dataDir;
    private final Path logFile;
    private final Path socketDir;
    private volatile int port;
    private final NodeFiles files;
    private final NodeReplication replication;
    private final NodeProcess process;
    private final NodeSettings settings;

    LocalNode(LocalCluster cluster, String name, Path nodeDir, Path socketDir, int port, boolean fixedPort) {
        this.cluster = cluster;
        this.name = name;
        this.nodeDir = nodeDir;
        this.dataDir = nodeDir.resolve("data");
        this.logFile = nodeDir.resolve("server.log");
        this.socketDir = socketDir;
        this.port = port;
        this.files = new NodeFiles(this);
        this.replication = new NodeReplication(this);
        this.process = new NodeProcess(this, fixedPort);
        this.settings = new NodeSettings(this);
    }

    // ------------------------------------------------------------------ identity

    /** Node name: pg1, pg2, ... (pg1 is the initial primary). */
    public String name() {
        return name;
    }

    /** Always {@code 127.0.0.1}. */
    public String host() {
        return OsSupport.LOOPBACK;
    }

    public int port() {
        return port;
    }

    /** The node's directory: holds {@code data/}, {@code server.log} and (usually) the Unix socket. */
    public Path nodeDir() {
        return nodeDir;
    }

    public Path dataDir() {
        return dataDir;
    }

    /** The server log ({@code pg_ctl -l}); appended to across restarts and rebuilds. */
    public Path logFile() {
        return logFile;
    }

    /** Directory holding the Unix-domain socket ({@code unix_socket_directories}). */
    public Path socketDir() {
        return socketDir;
    }

    /** {@code jdbc:postgresql://127.0.0.1:<port>/<db>}. */
    public String jdbcUrl(String db) {
        return "jdbc:postgresql://" + host() + ":" + port + "/" + db;
    }

    /** The cluster this node belongs to. */
    public LocalCluster cluster() {
        return cluster;
    }

    @Override
    public String toString() {
        return name + "(" + host() + ":" + port + ")";
    }

    // ------------------------------------------------------------------ connections

    /**
     * Opens a pgjdbc connection over TCP. Uses {@code sslmode=disable}, {@code gssEncMode=disable}
     * and a 10 s connect timeout.
     */
    public Connection connect(String db, String user, String password) throws SQLException {
        return connect(db, user, password, new Properties());
    }

    /** Like {@link #connect(String, String, String)}; {@code extra} pgjdbc properties win. */
    public Connection connect(String db, String user, String password, Properties extra) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", user);
        props.setProperty("password", password);
        props.setProperty("connectTimeout", "10");
        props.setProperty("sslmode", "disable");
        props.setProperty("gssEncMode", "disable");
        props.putAll(extra);
        Connection connection = DRIVER.connect(jdbcUrl(db), props);
        if (connection == null) {
            throw new SQLException("pgjdbc did not accept " + jdbcUrl(db));
        }
        return connection;
    }

    /** A superuser connection with short timeouts, for the cluster's own bookkeeping. */
    Connection adminConnection(String db) throws SQLException {
        if (process.isSuspended()) {
            throw new SQLException(name + " is suspended (SIGSTOP); call sigcont() first", "08006");
        }
        Properties props = new Properties();
        props.setProperty("connectTimeout", "5");
        props.setProperty("loginTimeout", "10");
        props.setProperty("socketTimeout", "90");
        props.setProperty("ApplicationName", "pgrelay-localcluster");
        ClusterUser su = cluster.superuser();
        return connect(db, su.name(), su.password(), props);
    }

    <T> T withAdmin(String what, SqlFunction<T> body) {
        try (Connection c = adminConnection(ADMIN_DB)) {
            return body.apply(c);
        } catch (SQLException e) {
            throw new LocalClusterException(name + ": " + what + " failed: " + e.getMessage(), e);
        }
    }

    @FunctionalInterface
    interface SqlFunction<T> {
        T apply(Connection connection) throws SQLException;
    }

    static String queryString(Connection c, String sql, Object... params) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                ps.setObject(i + 1, params[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    // ------------------------------------------------------------------ state

    /** Whether the postmaster recorded in {@code postmaster.pid} is alive (not a zombie). */
    public boolean isRunning() {
        return process.isRunning();
    }

    /** The postmaster's PID from {@code postmaster.pid}; fails when the node is not running. */
    public int serverPid() {
        return process.serverPid();
    }

    /** Whether the data directory holds standby.signal, i.e. the node starts as a standby. */
    boolean hasStandbySignal() {
        return Files.exists(dataDir.resolve("standby.signal"));
    }

    /** Whether the node is currently suspended by {@link #sigstop()}. */
    public boolean isSuspended() {
        return process.isSuspended();
    }

    /** {@code SELECT pg_is_in_recovery()}: true for a standby. */
    public boolean isInRecovery() {
        return withAdmin("pg_is_in_recovery()", c -> "t".equals(queryString(c, "SELECT pg_is_in_recovery()")));
    }

    /** Whether WAL replay is paused ({@link #pauseReplay()}). */
    public boolean isReplayPaused() {
        return withAdmin("pg_is_wal_replay_paused()",
                c -> "t".equals(queryString(c, "SELECT pg_is_wal_replay_paused()")));
    }

    long readPid() {
        return process.readPid();
    }

    /** "primary", "replica of pg1 (streaming)", "stopped", ... for {@link LocalCluster#describe()}. */
    String role() {
        if (!isRunning()) {
            return "stopped";
        }
        if (process.isSuspended()) {
            return "suspended (SIGSTOP)";
        }
        try (Connection c = adminConnection(ADMIN_DB)) {
            if (!"t".equals(queryString(c, "SELECT pg_is_in_recovery()"))) {
                return "primary";
            }
            StringBuilder role = new StringBuilder("replica");
            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT status, sender_port FROM pg_stat_wal_receiver")) {
                if (rs.next()) {
                    int senderPort = rs.getInt(2);
                    String upstream = cluster.nodes().stream().filter(n -> n.port() == senderPort)
                            .map(LocalNode::name).findFirst().orElse("port " + senderPort);
                    role.append(" of ").append(upstream).append(" (").append(rs.getString(1)).append(')');
                } else {
                    role.append(" (no WAL receiver)");
                }
            }
            if ("t".equals(queryString(c, "SELECT pg_is_wal_replay_paused()"))) {
                role.append(", replay paused");
            }
            return role.toString();
        } catch (SQLException e) {
            return "unreachable (" + e.getMessage() + ")";
        }
    }

    // ------------------------------------------------------------------ files

    NodeFiles files() {
        return files;
    }

    /**
     * Serves another certificate and key (PEM) from the next connection on: rewrites the files and
     * reloads, as an operator renewing a certificate would. Only on a cluster built with
     * {@link LocalClusterBuilder#serverTls(ServerTls)}.
     */
    public void serveCertificate(String certificatePem, String keyPem) {
        if (cluster.serverTls() == null) {
            throw new IllegalStateException(name + ": the cluster runs without TLS (LocalClusterBuilder.serverTls)");
        }
        files.serve(certificatePem, keyPem);
        reloadAndWait();
        log.info("{}: serving a new TLS certificate", name);
    }

    // ------------------------------------------------------------------ lifecycle

    /** Starts the server ({@code pg_ctl start -w}); a no-op when it is running. */
    public synchronized void start() {
        start(false);
    }

    /**
     * @param mayChangePort whether a port clash may be resolved by picking another free port
     *                      (only before the node was first started and only for non-fixed ports)
     */
    synchronized void start(boolean mayChangePort) {
        process.start(mayChangePort);
    }

    /** Moves the node to another port; only {@link NodeProcess} does, when a start found its port taken. */
    void movePort(int newPort) {
        port = newPort;
    }

    /** The last 40 lines of the server log, formatted for an exception message. */
    String logTailForMessage() {
        return process.logTailForMessage();
    }

    /** Fast shutdown ({@code pg_ctl stop -m fast -w}); a no-op when not running. */
    public synchronized void stop() {
        process.shutdown("fast");
    }

    /** Immediate shutdown ({@code pg_ctl stop -m immediate -w}): no checkpoint, crash recovery on start. */
    public synchronized void stopImmediate() {
        process.shutdown("immediate");
    }

    /**
     * Immediate stop for {@link LocalCluster#close()} and the shutdown hook. Deliberately not
     * synchronized: it must not wait for a lifecycle operation stuck in another thread. Resumes
     * a suspended server, tries {@code pg_ctl stop -m immediate}, and SIGKILLs what is left.
     */
    void emergencyStop() {
        process.emergencyStop();
    }

    /** {@link #stop()} then {@link #start()}. */
    public synchronized void restart() {
        stop();
        start();
    }

    /**
     * SIGKILLs the postmaster and all its children (the postmaster is SIGSTOPped first so that it
     * cannot fork meanwhile), then waits until they are gone and the port is closed. The next
     * {@link #start()} runs crash recovery.
     */
    public synchronized void kill9() {
        process.kill9();
    }

    /**
     * SIGSTOPs the postmaster and all its children: the port stays open but nothing answers, like a
     * hung or partitioned server. Undo with {@link #sigcont()}.
     */
    public synchronized void sigstop() {
        process.sigstop();
    }

    /** SIGCONTs the postmaster and all its children. Safe to call when not suspended. */
    public synchronized void sigcont() {
        process.sigcont();
    }

    /** Promotes a standby ({@code pg_ctl promote -w}) and waits until it accepts writes. */
    public synchronized void promote() {
        process.promote();
    }

    // ------------------------------------------------------------------ replication control

    /**
     * {@code pg_wal_replay_pause()}: WAL keeps arriving but is not applied. Waits (up to 5 s) until
     * the startup process reports "paused"; replay is stopped before the next record either way.
     */
    public void pauseReplay() {
        replication.pauseReplay();
    }

    /** {@code pg_wal_replay_resume()}. */
    public void resumeReplay() {
        replication.resumeReplay();
    }

    // ------------------------------------------------------------------ settings

    /**
     * {@code ALTER SYSTEM SET key = 'value'} plus {@code pg_reload_conf()}; returns once new
     * sessions see the reloaded configuration. Settings that need a restart log a warning (call
     * {@link #restart()}). {@link LocalCluster#resetToInitialTopology()} resets them.
     */
    public void setConf(String key, String value) {
        settings.set(key, value);
    }

    /** {@code ALTER SYSTEM RESET key} plus reload. */
    public void resetConf(String key) {
        settings.reset(key);
    }

    /** Keys changed through {@link #setConf}; reset by {@link LocalCluster#resetToInitialTopology()}. */
    Set<String> confOverrides() {
        return settings.overrides();
    }

    /** pg_reload_conf(), then waits until a new session's pg_conf_load_time() moved on. */
    void reloadAndWait() {
        settings.reloadAndWait();
    }

    // ------------------------------------------------------------------ replication topology

    /**
     * Makes this standby stream from {@code newPrimary} (typically after a promotion): creates
     * this node's slot there, then {@code ALTER SYSTEM SET primary_conninfo / primary_slot_name}
     * plus reload, and waits until it streams. The standby follows the new timeline as long as
     * it has not replayed past the promotion point; otherwise use {@link #rebuildAsReplicaOf}.
     */
    public void repointTo(LocalNode newPrimary) {
        replication.repointTo(newPrimary, Duration.ofSeconds(30));
    }

    /**
     * Stops this node (immediately), wipes its data directory and takes a fresh base backup from
     * {@code primary}; returns once it streams and has replayed a marker row. The port stays the same.
     */
    public synchronized void rebuildAsReplicaOf(LocalNode primary) {
        if (primary == this) {
            throw new IllegalArgumentException(name + " cannot be rebuilt from itself");
        }
        if (primary.isInRecovery()) {
            throw new IllegalStateException(primary.name() + " is a standby; rebuild from the primary");
        }
        log.info("{}: rebuilding as a replica of {}", name, primary.name());
        sigcont();
        stopImmediate();
        try {
            OsSupport.deleteRecursively(dataDir);
        } catch (IOException e) {
            throw new UncheckedIOException(name + ": cannot wipe " + dataDir, e);
        }
        appendLogMarker("rebuilding as a replica of " + primary.name());
        files.baseBackupFrom(primary);
        settings.forgetOverrides();
        start();
        replication.waitUntilStreamingFrom(primary, STREAMING_TIMEOUT);
    }

    private void appendLogMarker(String text) {
        try {
            if (Files.exists(logFile)) {
                Files.writeString(logFile, "\n=== pgrelay LocalCluster: " + name + " " + text + " ===\n",
                        StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND);
            }
        } catch (IOException e) {
            log.debug("cannot append to {}", logFile, e);
        }
    }

    /** Whether {@code primary}'s pg_stat_replication shows this node streaming. */
    public boolean isStreamingFrom(LocalNode primary) {
        return replication.isStreamingFrom(primary);
    }

    NodeReplication replication() {
        return replication;
    }

    // ------------------------------------------------------------------ LSNs

    /** {@code pg_last_wal_replay_lsn()} of a standby (or of a promoted node: the last replayed LSN). */
    public String replayLsn() {
        return replication.replayLsn();
    }

    /** {@code pg_last_wal_receive_lsn()} of a standby: WAL received (not necessarily replayed). */
    public String receiveLsn() {
        return replication.receiveLsn();
    }

    /** {@code pg_current_wal_lsn()} of a primary; fails on a standby. */
    public String currentWalLsn() {
        return replication.currentWalLsn();
    }

    /**
     * Waits until this node has replayed (standby) or written (primary) WAL up to {@code lsn}.
     *
     * @throws LocalClusterException on timeout, naming the replay position and pause state
     */
    public void waitForReplay(String lsn, Duration timeout) {
        replication.waitForReplay(lsn, timeout);
    }

    // ------------------------------------------------------------------ helpers

    static String sqlLiteral(String value) {
        return "'" + value.replace("'", "''") + "'";
    }

    /** A postgresql.conf string value. */
    static String confQuote(String value) {
        return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'";
    }

    /** A libpq connection-string value. */
    static String conninfoQuote(String value) {
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LocalClusterException("interrupted", e);
        }
    }
}
