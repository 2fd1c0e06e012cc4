package io.pgrelay.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An etcd cluster of N members (default 3) from the locally installed {@code etcd} (Debian
 * {@code etcd-server}), on free loopback ports, for the tests of pgrelay's coordination. Members
 * are named e1, e2, ...; their data lives under {@code /dev/shm} when it is writable (etcd fsyncs
 * every write), else the temp directory. Elections are fast (heartbeat 50 ms, election timeout
 * 500 ms), so a killed leader is replaced within about a second.
 *
 * <pre>{@code
 * try (LocalEtcd etcd = LocalEtcd.start(3)) {
 *     etcd.endpoints();          // [http://127.0.0.1:41234, ...] (https:// with ClientTls)
 *     etcd.member(0).kill9();    // the two others keep the quorum
 * }
 * }</pre>
 *
 * <p>etcd runs as the JVM's user, root included (unlike PostgreSQL it does not refuse). A missing
 * binary fails with how to install it. {@link #close()} kills every member and deletes the data;
 * a JVM shutdown hook does the same if it was never called.
 */
public final class LocalEtcd implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LocalEtcd.class);
    /** How long a fresh cluster may take to elect a leader and answer on every member. */
    public static final Duration START_TIMEOUT = Duration.ofSeconds(30);

    private final Path baseDir;
    private final List<LocalEtcdMember> members;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Thread shutdownHook = new Thread(this::close, "pgrelay-localetcd-shutdown");
    private final boolean closeOnJvmExit;

    private LocalEtcd(Path baseDir, List<LocalEtcdMember> members, boolean closeOnJvmExit) {
        this.baseDir = baseDir;
        this.members = List.copyOf(members);
        this.closeOnJvmExit = closeOnJvmExit;
        if (closeOnJvmExit) {
            Runtime.getRuntime().addShutdownHook(shutdownHook);
        }
    }

    /**
     * TLS on the client URLs ({@code https://}): each member serves {@code certificate} with
     * {@code key} (PEM files; the certificate must name 127.0.0.1). With {@code clientCa}, a client
     * must present a certificate that CA signed ({@code --client-cert-auth}). Peers talk plain text.
     */
    public record ClientTls(Path certificate, Path key, Path clientCa) {
    }

    /** Starts {@code size} members and waits until every one is healthy (a leader is elected). */
    public static LocalEtcd start(int size) {
        return start(size, null, true);
    }

    /** As {@link #start(int)}, with TLS toward clients when {@code tls} is not null. */
    public static LocalEtcd start(int size, ClientTls tls) {
        return start(size, tls, true);
    }

    /**
     * As {@link #start(int)}; {@code closeOnJvmExit} false leaves stopping it to the caller's own
     * shutdown hook (the demo stops its proxies first, so they leave etcd while it still answers).
     */
    public static LocalEtcd start(int size, boolean closeOnJvmExit) {
        return start(size, null, closeOnJvmExit);
    }

    private static LocalEtcd start(int size, ClientTls tls, boolean closeOnJvmExit) {
        if (size < 1) {
            throw new IllegalArgumentException("an etcd cluster needs at least one member");
        }
        String binary = findBinary();
        Path baseDir = createBaseDir();
        Set<Integer> taken = new HashSet<>();
        List<int[]> ports = new ArrayList<>();
        StringBuilder initialCluster = new StringBuilder();
        for (int i = 1; i <= size; i++) {
            int client = OsSupport.pickFreePort(taken);
            taken.add(client);
            int peer = OsSupport.pickFreePort(taken);
            taken.add(peer);
            int health = OsSupport.pickFreePort(taken);
            taken.add(health);
            ports.add(new int[] {client, peer, health});
            initialCluster.append(i == 1 ? "" : ",").append("e").append(i).append("=http://")
                    .append(OsSupport.LOOPBACK).append(':').append(peer);
        }
        // A token per cluster: members of another test's cluster on a reused port are not mistaken for ours.
        String token = "pgrelay-test-" + UUID.randomUUID();
        List<LocalEtcdMember> members = new ArrayList<>();
        for (int i = 1; i <= size; i++) {
            String name = "e" + i;
            Path dir = baseDir.resolve(name);
            try {
                Files.createDirectories(dir);
            } catch (IOException e) {
                throw new LocalClusterException("cannot create " + dir, e);
            }
            String scheme = tls == null ? "http" : "https";
            String client = scheme + "://" + OsSupport.LOOPBACK + ":" + ports.get(i - 1)[0];
            String peer = "http://" + OsSupport.LOOPBACK + ":" + ports.get(i - 1)[1];
            // /health on a plain-text port of its own, whatever the client URLs speak.
            String health = "http://" + OsSupport.LOOPBACK + ":" + ports.get(i - 1)[2];
            List<String> command = new ArrayList<>(List.of(binary,
                    "--name", name,
                    "--data-dir", dir.resolve("data").toString(),
                    "--listen-client-urls", client, "--advertise-client-urls", client,
                    "--listen-metrics-urls", health,
                    "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                    "--initial-cluster", initialCluster.toString(),
                    "--initial-cluster-state", "new", "--initial-cluster-token", token,
                    "--heartbeat-interval", "50", "--election-timeout", "500",
                    "--logger", "zap", "--log-outputs", "stderr"));
            if (tls != null) {
                command.addAll(List.of("--cert-file", tls.certificate().toString(), "--key-file", tls.key().toString()));
                if (tls.clientCa() != null) {
                    command.addAll(List.of("--client-cert-auth", "--trusted-ca-file", tls.clientCa().toString()));
                }
            }
            members.add(new LocalEtcdMember(name, client, ports.get(i - 1)[0], ports.get(i - 1)[1], health, dir,
                    command));
        }
        LocalEtcd etcd = new LocalEtcd(baseDir, members, closeOnJvmExit);
        try {
            long t0 = System.nanoTime();
            members.forEach(LocalEtcdMember::start);
            etcd.awaitHealthy(START_TIMEOUT);
            for (LocalEtcdMember member : members) {
                if (!member.isRunning()) {
                    // e.g. its port was taken between the pick and the bind: the others alone look healthy
                    throw new LocalClusterException(member.name() + " exited while the cluster started"
                            + member.logTail());
                }
            }
            log.info("etcd cluster of {} up in {} ms: {}", size, (System.nanoTime() - t0) / 1_000_000,
                    etcd.endpoints());
            return etcd;
        } catch (RuntimeException e) {
            etcd.close();
            throw e;
        }
    }

    /** The etcd binary: env {@code ETCD_BIN}, else {@code etcd} in the system directories or on PATH. */
    static String findBinary() {
        String configured = System.getenv("ETCD_BIN");
        if (configured != null && !configured.isBlank()) {
            if (!Files.isExecutable(Path.of(configured))) {
                throw new LocalClusterException("ETCD_BIN=" + configured + " is not an executable file");
            }
            return configured;
        }
        return OsSupport.findSystemExecutable("etcd").orElseThrow(() -> new LocalClusterException(
                "etcd not found (looked in /usr/bin, /usr/sbin, /usr/local/bin and PATH): install it with "
                        + "apt-get install -y etcd-server, or set ETCD_BIN to the etcd binary"));
    }

    private static Path createBaseDir() {
        Path shm = Path.of("/dev/shm");
        Path parent = Files.isDirectory(shm) && Files.isWritable(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir"));
        try {
            return Files.createTempDirectory(parent, "pgrelay-etcd");
        } catch (IOException e) {
            throw new LocalClusterException("cannot create the etcd base directory under " + parent, e);
        }
    }

    /** Every member's client URL, for jetcd or pgrelay's {@code coordination.etcd.endpoints}. */
    public List<String> endpoints() {
        return members.stream().map(LocalEtcdMember::clientUrl).toList();
    }

    /** The endpoints as a YAML flow sequence: {@code [http://127.0.0.1:1, http://127.0.0.1:2]}. */
    public String endpointsYaml() {
        return "[" + String.join(", ", endpoints()) + "]";
    }

    public List<LocalEtcdMember> members() {
        return members;
    }

    /** The member at {@code index} (0-based: {@code member(0)} is e1). */
    public LocalEtcdMember member(int index) {
        return members.get(index);
    }

    public Path baseDir() {
        return baseDir;
    }

    /** Waits until every running member answers healthy (it has a leader); fails with their logs otherwise. */
    public void awaitHealthy(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<LocalEtcdMember> unhealthy = new ArrayList<>();
            for (LocalEtcdMember member : members) {
                if (member.isRunning() && !member.healthy()) {
                    unhealthy.add(member);
                }
            }
            if (unhealthy.isEmpty()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                StringBuilder message = new StringBuilder("etcd members not healthy after " + timeout + ": "
                        + unhealthy);
                unhealthy.forEach(member -> message.append(member.logTail()));
                throw new LocalClusterException(message.toString());
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new LocalClusterException("interrupted waiting for etcd", e);
            }
        }
    }

    /** Kills every member and deletes the data directory. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        for (LocalEtcdMember member : members) {
            try {
                member.sigcont();
                member.kill9();
            } catch (RuntimeException e) {
                log.warn("{}: cannot kill: {}", member.name(), e.toString());
            }
        }
        try {
            OsSupport.deleteRecursively(baseDir);
        } catch (IOException e) {
            log.warn("cannot delete {}: {}", baseDir, e.toString());
        }
        if (closeOnJvmExit && Thread.currentThread() != shutdownHook) {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException e) {
                // the JVM is shutting down already
            }
        }
    }
}
