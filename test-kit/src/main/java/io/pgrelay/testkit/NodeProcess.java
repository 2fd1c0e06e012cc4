package io.pgrelay.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static io.pgrelay.testkit.LocalNode.sleep;

/**
 * A node's server process: pg_ctl start, stop and promote, the postmaster's PID and the signals
 * that kill, suspend and resume it. Reached through {@link LocalNode}, whose synchronized lifecycle
 * methods serialize these calls per node; only {@link #emergencyStop()} runs without that lock.
 */
final class NodeProcess {
    private static final Logger log = LoggerFactory.getLogger(NodeProcess.class);
    private static final int LOG_TAIL_LINES = 40;
    private static final Duration PG_CTL_TIMEOUT = Duration.ofSeconds(60);

    private final LocalNode node;
    /** Ports chosen by the caller are never moved on a clash; only ones LocalCluster picked. */
    private final boolean fixedPort;
    private volatile boolean suspended;

    NodeProcess(LocalNode node, boolean fixedPort) {
        this.node = node;
        this.fixedPort = fixedPort;
    }

    private String pg(String executable) {
        return node.cluster().binDir().resolve(executable).toString();
    }

    private OsSupport os() {
        return node.cluster().os();
    }

    /** Whether the postmaster is suspended by {@link #sigstop()}. */
    boolean isSuspended() {
        return suspended;
    }

    /** Whether the postmaster recorded in {@code postmaster.pid} is alive (not a zombie). */
    boolean isRunning() {
        long pid = readPid();
        return pid > 0 && OsSupport.isAlive(pid) && isOurPostmaster(pid);
    }

    /** The postmaster's PID from {@code postmaster.pid}; fails when the node is not running. */
    int serverPid() {
        long pid = readPid();
        if (pid <= 0 || !OsSupport.isAlive(pid) || !isOurPostmaster(pid)) {
            throw new IllegalStateException(node.name() + " is not running");
        }
        return (int) pid;
    }

    long readPid() {
        try {
            List<String> lines = Files.readAllLines(node.dataDir().resolve("postmaster.pid"), StandardCharsets.UTF_8);
            return lines.isEmpty() ? -1 : Long.parseLong(lines.get(0).strip());
        } catch (NoSuchFileException e) {
            return -1;
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }

    /** Guards against a stale postmaster.pid whose PID was reused: the postmaster's cwd is its data dir. */
    private boolean isOurPostmaster(long pid) {
        try {
            Path cwd = Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "cwd"));
            return cwd.equals(node.dataDir().toRealPath());
        } catch (IOException | UnsupportedOperationException e) {
            return true;
        }
    }

    /**
     * Starts the server ({@code pg_ctl start -w}); a no-op when it is running.
     *
     * @param mayChangePort whether a port clash may be resolved by picking another free port
     *                      (only before the node was first started and only for non-fixed ports)
     */
    void start(boolean mayChangePort) {
        if (isRunning()) {
            log.info("{}: already running on {}:{}", node.name(), node.host(), node.port());
            return;
        }
        if (!Files.isRegularFile(node.dataDir().resolve("PG_VERSION"))) {
            throw new LocalClusterException(node.name() + ": no data directory at " + node.dataDir()
                    + " (use rebuildAsReplicaOf to recreate it)");
        }
        removeStaleLockFiles();
        boolean allowRetry = mayChangePort && !fixedPort;
        for (int attempt = 1; ; attempt++) {
            if (allowRetry && !OsSupport.isPortFree(node.port())) {
                int old = node.port();
                node.movePort(OsSupport.pickFreePort(node.cluster().portsInUse()));
                log.info("{}: port {} was taken meanwhile, using {}", node.name(), old, node.port());
                node.files().writeNodeConf();
            }
            long logOffset = OsSupport.sizeOrZero(node.logFile());
            log.info("{}: starting on {}:{}", node.name(), node.host(), node.port());
            long t0 = System.nanoTime();
            OsSupport.CommandResult result = os().runAsServer(List.of(pg("pg_ctl"), "-D", node.dataDir().toString(),
                            "-l", node.logFile().toString(), "-w", "-t", Long.toString(PG_CTL_TIMEOUT.toSeconds()),
                            "start"),
                    Map.of(), node.nodeDir(), PG_CTL_TIMEOUT.plusSeconds(30));
            if (result.ok() && isRunning()) {
                suspended = false;
                log.info("{}: running on {}:{} (pid {}) after {} ms", node.name(), node.host(), node.port(), readPid(),
                        (System.nanoTime() - t0) / 1_000_000);
                return;
            }
            String newLog;
            try {
                newLog = OsSupport.readFrom(node.logFile(), logOffset);
            } catch (IOException e) {
                newLog = "";
            }
            stopAfterFailedStart();
            boolean portClash = newLog.contains("Address already in use")
                    || newLog.contains("could not create any TCP/IP sockets");
            if (portClash && allowRetry && attempt < 5) {
                int old = node.port();
                node.movePort(OsSupport.pickFreePort(node.cluster().portsInUse()));
                log.warn("{}: port {} clashed with another process, retrying on {}", node.name(), old, node.port());
                node.files().writeNodeConf();
                continue;
            }
            throw new LocalClusterException(node.name() + ": server failed to start on " + node.host() + ":"
                    + node.port() + (portClash ? " (port already in use)" : "") + ": " + result.describe()
                    + logTailForMessage());
        }
    }

    /**
     * Removes postmaster.pid and the socket lock file when the PID they name is not a live
     * postmaster of this node. PostgreSQL treats a lock file as stale only when its PID does not
     * exist; after {@link #kill9()} the postmaster may linger as an unreaped zombie (PID 1 in
     * containers often does not reap orphans), which would block the next start.
     */
    private void removeStaleLockFiles() {
        List<Path> lockFiles = new ArrayList<>();
        lockFiles.add(node.dataDir().resolve("postmaster.pid"));
        lockFiles.add(node.socketDir().resolve(".s.PGSQL." + node.port() + ".lock"));
        for (Path lock : lockFiles) {
            long pid;
            try {
                List<String> lines = Files.readAllLines(lock, StandardCharsets.UTF_8);
                pid = lines.isEmpty() ? -1 : Long.parseLong(lines.get(0).strip());
            } catch (NoSuchFileException e) {
                continue;
            } catch (IOException | NumberFormatException e) {
                pid = -1;
            }
            if (pid > 0 && OsSupport.isAlive(pid) && isOurPostmaster(pid)) {
                continue;
            }
            try {
                log.info("{}: removing stale {} (postmaster {} is gone)", node.name(), lock.getFileName(), pid);
                Files.deleteIfExists(lock);
                if (lock.getFileName().toString().endsWith(".lock")) {
                    String socket = lock.getFileName().toString();
                    Files.deleteIfExists(lock.resolveSibling(socket.substring(0, socket.length() - ".lock".length())));
                }
            } catch (IOException e) {
                throw new UncheckedIOException(node.name() + ": cannot remove stale " + lock, e);
            }
        }
    }

    private void stopAfterFailedStart() {
        try {
            if (isRunning()) {
                os().runAsServer(List.of(pg("pg_ctl"), "-D", node.dataDir().toString(), "-m", "immediate", "-w",
                        "stop"), Map.of(), node.nodeDir(), PG_CTL_TIMEOUT);
            }
        } catch (RuntimeException e) {
            log.debug("{}: cleanup after failed start failed", node.name(), e);
        }
    }

    /** The last 40 lines of the server log, formatted for an exception message. */
    String logTailForMessage() {
        return "\n--- last " + LOG_TAIL_LINES + " lines of " + node.logFile() + " ---\n"
                + OsSupport.tail(node.logFile(), LOG_TAIL_LINES) + "\n--- end of log ---";
    }

    /** {@code pg_ctl stop -m <mode> -w}, SIGKILL if that fails; a no-op when not running. */
    void shutdown(String mode) {
        if (!isRunning()) {
            suspended = false;
            return;
        }
        if (suspended) {
            sigcont();
        }
        log.info("{}: stopping ({} mode)", node.name(), mode);
        OsSupport.CommandResult result = os().runAsServer(List.of(pg("pg_ctl"), "-D", node.dataDir().toString(),
                "-m", mode, "-w", "-t", Long.toString(PG_CTL_TIMEOUT.toSeconds()), "stop"),
                Map.of(), node.nodeDir(), PG_CTL_TIMEOUT.plusSeconds(30));
        if (!result.ok() && isRunning()) {
            log.warn("{}: pg_ctl stop -m {} failed, killing: {}", node.name(), mode, result.describe());
            kill9();
        }
        log.info("{}: stopped", node.name());
    }

    /** Resumes a suspended server, tries {@code pg_ctl stop -m immediate}, and SIGKILLs what is left. */
    void emergencyStop() {
        long pid = readPid();
        if (pid <= 0 || !OsSupport.isAlive(pid) || !isOurPostmaster(pid)) {
            return;
        }
        OsSupport.signal("CONT", OsSupport.descendants(pid));
        OsSupport.signal("CONT", List.of(pid));
        suspended = false;
        try {
            os().runAsServer(List.of(pg("pg_ctl"), "-D", node.dataDir().toString(), "-m", "immediate", "-w", "-t", "30",
                    "stop"), Map.of(), node.nodeDir(), Duration.ofSeconds(40));
        } catch (RuntimeException e) {
            log.warn("{}: pg_ctl stop failed: {}", node.name(), e.getMessage());
        }
        if (OsSupport.isAlive(pid)) {
            log.warn("{}: still running after pg_ctl stop; killing", node.name());
            OsSupport.signal("STOP", List.of(pid));
            List<Long> all = new ArrayList<>(OsSupport.descendants(pid));
            all.add(pid);
            OsSupport.signal("KILL", all);
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (all.stream().anyMatch(OsSupport::isAlive) && System.nanoTime() < deadline) {
                sleep(10);
            }
        }
        log.info("{}: stopped", node.name());
    }

    /**
     * SIGKILLs the postmaster and all its children (the postmaster is SIGSTOPped first so that it
     * cannot fork meanwhile), then waits until they are gone and the port is closed. The next
     * start runs crash recovery.
     */
    void kill9() {
        long pid = readPid();
        if (pid <= 0 || !OsSupport.isAlive(pid) || !isOurPostmaster(pid)) {
            log.info("{}: kill9: not running", node.name());
            suspended = false;
            return;
        }
        log.info("{}: SIGKILL postmaster {} and its children", node.name(), pid);
        OsSupport.signal("STOP", List.of(pid));
        List<Long> all = new ArrayList<>();
        all.add(pid);
        all.addAll(OsSupport.descendants(pid));
        OsSupport.signal("KILL", all);
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (all.stream().anyMatch(OsSupport::isAlive)) {
            if (System.nanoTime() > deadline) {
                throw new LocalClusterException(node.name() + ": processes survived SIGKILL: "
                        + all.stream().filter(OsSupport::isAlive).toList());
            }
            sleep(10);
            OsSupport.signal("KILL", all.stream().filter(OsSupport::isAlive).toList());
        }
        while (OsSupport.isListening(node.port())) {
            if (System.nanoTime() > deadline) {
                throw new LocalClusterException(node.name() + ": port " + node.port()
                        + " still accepts connections after SIGKILL");
            }
            sleep(10);
        }
        suspended = false;
        log.info("{}: killed", node.name());
    }

    /**
     * SIGSTOPs the postmaster and all its children: the port stays open but nothing answers, like a
     * hung or partitioned server. Undo with {@link #sigcont()}.
     */
    void sigstop() {
        long pid = serverPid();
        log.info("{}: SIGSTOP postmaster {} and its children", node.name(), pid);
        OsSupport.signal("STOP", List.of(pid));
        List<Long> children = OsSupport.descendants(pid);
        OsSupport.signal("STOP", children);
        // a child forked just before the postmaster stopped
        List<Long> late = new ArrayList<>(OsSupport.descendants(pid));
        late.removeAll(children);
        OsSupport.signal("STOP", late);
        suspended = true;
    }

    /** SIGCONTs the postmaster and all its children. Safe to call when not suspended. */
    void sigcont() {
        long pid = readPid();
        if (pid > 0 && OsSupport.isAlive(pid) && isOurPostmaster(pid)) {
            if (suspended) {
                log.info("{}: SIGCONT postmaster {} and its children", node.name(), pid);
            }
            OsSupport.signal("CONT", OsSupport.descendants(pid));
            OsSupport.signal("CONT", List.of(pid));
        }
        suspended = false;
    }

    /** Promotes a standby ({@code pg_ctl promote -w}) and waits until it accepts writes. */
    void promote() {
        if (!node.isInRecovery()) {
            throw new IllegalStateException(node.name() + " is not a standby");
        }
        log.info("{}: promoting", node.name());
        OsSupport.CommandResult result = os().runAsServer(List.of(pg("pg_ctl"), "-D", node.dataDir().toString(),
                "-w", "-t", Long.toString(PG_CTL_TIMEOUT.toSeconds()), "promote"),
                Map.of(), node.nodeDir(), PG_CTL_TIMEOUT.plusSeconds(30));
        if (!result.ok()) {
            throw new LocalClusterException(node.name() + ": promote failed: " + result.describe()
                    + logTailForMessage());
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (node.isInRecovery()) {
            if (System.nanoTime() > deadline) {
                throw new LocalClusterException(node.name() + ": still in recovery 30 s after promote"
                        + logTailForMessage());
            }
            sleep(20);
        }
        log.info("{}: promoted, now a primary on {}:{}", node.name(), node.host(), node.port());
    }
}
