package io.pgrelay.testkit;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One etcd server process of a {@link LocalEtcd}: its ports, data directory and log, and the faults
 * a test inflicts on it (kill -9, SIGSTOP, stop and start again with its data).
 */
public final class LocalEtcdMember {
    private static final Logger log = LoggerFactory.getLogger(LocalEtcdMember.class);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();
    private static final int LOG_TAIL_LINES = 30;

    private final String name;
    private final String clientUrl;
    private final String healthUrl;
    private final int clientPort;
    private final int peerPort;
    private final Path dataDir;
    private final Path logFile;
    /** The whole etcd command line but for the data's state: {@link #start()} runs it again as it was. */
    private final List<String> command;
    private Process process;
    private boolean suspended;

    LocalEtcdMember(String name, String clientUrl, int clientPort, int peerPort, String healthUrl, Path dir,
                    List<String> command) {
        this.name = name;
        this.clientUrl = clientUrl;
        this.healthUrl = healthUrl;
        this.clientPort = clientPort;
        this.peerPort = peerPort;
        this.dataDir = dir.resolve("data");
        this.logFile = dir.resolve("etcd.log");
        this.command = List.copyOf(command);
    }

    public String name() {
        return name;
    }

    /** {@code http://127.0.0.1:<client port>} ({@code https://} with TLS), as jetcd and etcdctl take it. */
    public String clientUrl() {
        return clientUrl;
    }

    public String peerUrl() {
        return "http://" + OsSupport.LOOPBACK + ":" + peerPort;
    }

    public int clientPort() {
        return clientPort;
    }

    Path dataDir() {
        return dataDir;
    }

    /** stdout and stderr of every run of this member, appended. */
    public Path logFile() {
        return logFile;
    }

    /** Starts the process (with the data it has, after a stop or a kill); returns at once, see {@link #healthy()}. */
    public synchronized void start() {
        if (isRunning()) {
            return;
        }
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        // An ETCD_* variable of the caller's environment would override our flags.
        builder.environment().keySet().removeIf(key -> key.startsWith("ETCD"));
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new LocalClusterException(name + ": cannot start " + command.get(0) + ": " + e.getMessage(), e);
        }
        suspended = false;
        log.info("{}: etcd started (pid {}), client {}, peer {}", name, process.pid(), clientUrl(), peerUrl());
    }

    /** Whether the process is alive (a suspended one is). */
    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** Whether the member answers {@code /health} with a leader, as {@code etcdctl endpoint health} asks. */
    public boolean healthy() {
        HttpRequest request = HttpRequest.newBuilder(URI.create(healthUrl + "/health"))
                .timeout(Duration.ofMillis(1000)).GET().build();
        try {
            HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
            return response.statusCode() == 200 && response.body().replace(" ", "").contains("\"health\":\"true\"");
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** SIGKILL, as a crash: no goodbye to the peers; waits until the process is gone. */
    public synchronized void kill9() {
        if (!isRunning()) {
            return;
        }
        log.info("{}: SIGKILL etcd {}", name, process.pid());
        process.destroyForcibly();
        awaitExit(Duration.ofSeconds(10));
        suspended = false;
    }

    /** SIGTERM, then SIGKILL if it has not exited within 10 s. */
    public synchronized void stop() {
        if (!isRunning()) {
            return;
        }
        if (suspended) {
            sigcont();
        }
        log.info("{}: stopping etcd {}", name, process.pid());
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                log.warn("{}: etcd still running 10 s after SIGTERM; killing", name);
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
        awaitExit(Duration.ofSeconds(10));
    }

    /** SIGSTOP: the ports stay open and nothing answers, as a frozen or partitioned member. Undo with {@link #sigcont()}. */
    public synchronized void sigstop() {
        if (!isRunning()) {
            throw new IllegalStateException(name + " is not running");
        }
        log.info("{}: SIGSTOP etcd {}", name, process.pid());
        OsSupport.signal("STOP", List.of(process.pid()));
        suspended = true;
    }

    /** SIGCONT; safe to call when not suspended. */
    public synchronized void sigcont() {
        if (isRunning()) {
            OsSupport.signal("CONT", List.of(process.pid()));
        }
        suspended = false;
    }

    private void awaitExit(Duration timeout) {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new LocalClusterException(name + ": etcd " + process.pid() + " survived SIGKILL");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LocalClusterException(name + ": interrupted waiting for etcd to exit", e);
        }
        log.info("{}: etcd exited ({})", name, process.exitValue());
    }

    /** The last lines of the log, for a failure message. */
    String logTail() {
        return "\n--- last " + LOG_TAIL_LINES + " lines of " + logFile + " ---\n"
                + OsSupport.tail(logFile, LOG_TAIL_LINES) + "\n--- end of log ---";
    }

    @Override
    public String toString() {
        return name + "[" + clientUrl() + (isRunning() ? suspended ? ", suspended" : ", running" : ", stopped") + "]";
    }
}
