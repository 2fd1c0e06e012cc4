package io.pgrelay.testkit;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bin/pgrelay demo}: a local primary and two streaming replicas from this machine's
 * PostgreSQL binaries, with pgrelay in front as a child process ({@code java -jar pgrelay.jar run
 * --config <data dir>/pgrelay.yml}, see {@link ProxyProcess}), until Ctrl-C or SIGTERM.
 *
 * <p>The proxies get consecutive ports from {@code --listen} and {@code --admin-listen} (proxy
 * {@code i} listens on port {@code + i}). With {@code --proxies N} (more than one) the demo also
 * starts a one-member etcd ({@link LocalEtcd}, the Debian {@code etcd-server} binary) and the
 * instances coordinate through it ({@code coordination.etcd}, prefix {@value #ETCD_PREFIX}): they
 * list each other and a cancel sent to any of them reaches the session's. When the last proxy dies
 * on its own the demo says why, stops the cluster and exits with status 1.
 *
 * <p>Data dir: {@code --data-dir} (kept on exit), or a temporary directory (deleted on exit). It
 * holds {@code cluster/} (the nodes) and {@code pgrelay.yml}.
 */
@Command(name = "pgrelay demo",
        description = "Start a local primary + 2 streaming replicas with pgrelay in front (Ctrl-C stops all).")
public final class Demo implements Callable<Integer> {
    static final String TOKEN = "demo-token";
    /** The application's user (password and database of the same name), as in the README. */
    static final String APP_USER = "app";
    /** The SQL console's user: a superuser of the cluster, also the monitor's (console-users' default). */
    static final String CONSOLE_USER = "postgres";
    static final String CONSOLE_DATABASE = "pgrelay";
    /** At most this many proxies: their ports are consecutive, and each is a JVM. */
    static final int MAX_PROXIES = 9;
    static final String ETCD_PREFIX = "/pgrelay/demo";
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean help;

    @Option(names = "--listen", defaultValue = "127.0.0.1:6432", description = "client address (default ${DEFAULT-VALUE})")
    String listen;

    @Option(names = "--admin-listen", defaultValue = "127.0.0.1:6480",
            description = "admin API address (default ${DEFAULT-VALUE})")
    String adminListen;

    @Option(names = "--data-dir", description = "keep the cluster's data and pgrelay's configuration here "
            + "(empty or absent) instead of a temporary directory")
    Path dataDir;

    @Option(names = "--pool-mode", defaultValue = "session", description = "session | transaction")
    String poolMode;

    @Option(names = "--proxies", defaultValue = "1", paramLabel = "N",
            description = "pgrelay instances to start, on consecutive ports from --listen and --admin-listen; more "
                    + "than one also starts etcd, through which they coordinate (default ${DEFAULT-VALUE}, at most "
                    + MAX_PROXIES + ")")
    int proxyCount;

    @Option(names = "--pgrelay-jar", paramLabel = "JAR",
            description = "the pgrelay jar to run (default: proxy-server/target/pgrelay.jar of this checkout)")
    Path pgrelayJar;

    private final CompletableFuture<LocalCluster> clusterStarted = new CompletableFuture<>();
    /** The etcd of several proxies; null for one. Stopped after the proxies, so they leave it cleanly. */
    private volatile LocalEtcd etcd;
    private final List<ProxyProcess> proxies = new ArrayList<>();
    private boolean stopping;
    private boolean stopped;
    private Path dir;
    private boolean temporaryDir;

    public static void main(String[] args) {
        // bin/pgrelay passes --pgrelay-jar first: one given by the user after it wins
        int exit = new CommandLine(new Demo()).setOverwrittenOptionsAllowed(true).execute(args);
        if (exit != 0) {
            System.exit(exit);
        }
    }

    @Override
    public Integer call() throws Exception {
        Runtime.getRuntime().addShutdownHook(new Thread(this::stop, "pgrelay-demo-shutdown"));
        try {
            return run();
        } finally {
            clusterStarted.complete(null);
        }
    }

    private int run() throws Exception {
        Path jar = pgrelayJar != null ? pgrelayJar : defaultJar();
        if (!Files.isRegularFile(jar)) {
            return fail(jar + " not found: build it with `mvn -B -DskipTests package` (bin/pgrelay demo does), "
                    + "or name it with --pgrelay-jar");
        }
        if (proxyCount < 1 || proxyCount > MAX_PROXIES) {
            return fail("--proxies " + proxyCount + ": expected 1 to " + MAX_PROXIES);
        }
        Address clients;
        Address admin;
        try {
            clients = Address.parse(listen, "--listen", proxyCount);
            admin = Address.parse(adminListen, "--admin-listen", proxyCount);
        } catch (IllegalArgumentException e) {
            return fail(e.getMessage());
        }
        for (int i = 0; i < proxyCount; i++) {
            for (Address a : List.of(clients.plus(i), admin.plus(i))) {
                if (!a.isFree()) {
                    return fail(a + " is already in use (another demo still running?); choose other ports with "
                            + "--listen and --admin-listen");
                }
            }
        }
        if (LocalCluster.findBinDir().isEmpty() && !installPostgres()) {
            return 1;
        }
        String problem = prepareDir();
        if (problem != null) {
            return fail(problem);
        }

        System.out.println("pgrelay demo: starting a primary and two streaming replicas in " + dir + " ...");
        LocalClusterBuilder builder = LocalCluster.builder().replicas(2).baseDir(dir.resolve("cluster"))
                .keepData(!temporaryDir).closeOnJvmExit(false);
        LocalCluster cluster;
        try {
            cluster = builder.start();
        } catch (RuntimeException e) {
            clusterStarted.complete(null);
            return fail("the cluster did not start: " + e.getMessage());
        }
        clusterStarted.complete(cluster);
        if (proxyCount > 1) {
            System.out.println("pgrelay demo: starting etcd for " + proxyCount + " pgrelay instances ...");
            try {
                synchronized (this) {
                    if (stopping) {
                        return 0;
                    }
                    etcd = LocalEtcd.start(1, false);
                }
            } catch (RuntimeException e) {
                return fail("etcd did not start: " + e.getMessage());
            }
        }

        List<String> jvmOptions = ProxyProcess.inheritableJvmOptions();
        for (int i = 0; i < proxyCount; i++) {
            Path config = configFile(i);
            Files.writeString(config, config(cluster, clients.plus(i), admin.plus(i)) + coordination(),
                    StandardCharsets.UTF_8);
            synchronized (this) {
                if (stopping) {
                    return 0;
                }
                proxies.add(ProxyProcess.start(proxyName(i), jar, config, jvmOptions, System.out));
            }
        }
        try {
            for (int i = 0; i < proxyCount; i++) {
                proxies.get(i).awaitReady(admin.plus(i).uri("/readyz"), READY_TIMEOUT);
            }
        } catch (IllegalStateException e) {
            return isStopping() ? 0 : fail(e.getMessage());
        }
        System.out.print(banner(cluster, clients, admin));

        List<CompletableFuture<ProxyProcess>> exits = new ArrayList<>();
        for (ProxyProcess proxy : proxies) {
            exits.add(proxy.onExit().whenComplete((p, e) -> {
                if (!p.isStopping()) {
                    System.out.println("\npgrelay demo: " + p.describeExit());
                }
            }));
        }
        CompletableFuture.allOf(exits.toArray(CompletableFuture[]::new)).join();
        if (isStopping()) {
            return 0;
        }
        System.out.println("pgrelay demo: no pgrelay is left running");
        return 1;
    }

    private synchronized boolean isStopping() {
        return stopping;
    }

    private static String proxyName(int index) {
        return index == 0 ? "pgrelay" : "pgrelay-" + (index + 1);
    }

    private Path configFile(int index) {
        return dir.resolve(proxyName(index) + ".yml");
    }

    private static int fail(String message) {
        System.err.println("pgrelay demo: " + message);
        return 1;
    }

    /** proxy-server/target/pgrelay.jar of the checkout this class was loaded from (test-kit/target/…). */
    private static Path defaultJar() throws URISyntaxException {
        Path codeSource = Path.of(Demo.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path root = codeSource.getParent().getParent().getParent();
        return root.resolve("proxy-server").resolve("target").resolve("pgrelay.jar");
    }

    /** Null when the data dir is ready, else what is wrong with it. */
    private String prepareDir() throws IOException {
        if (dataDir == null) {
            dir = Files.createTempDirectory("pgrelay-demo");
            temporaryDir = true;
        } else {
            dir = dataDir.toAbsolutePath().normalize();
            if (Files.exists(dir)) {
                try (Stream<Path> entries = Files.list(dir)) {
                    if (entries.findAny().isPresent()) {
                        return "data dir " + dir + " is not empty; remove it or choose another";
                    }
                }
            }
            Files.createDirectories(dir);
        }
        if (OsSupport.isRoot()) {
            OsSupport.makeTraversable(dir); // the servers run as postgres
        }
        return null;
    }

    String config(LocalCluster cluster, Address clients, Address admin) {
        StringBuilder yaml = new StringBuilder("# written by pgrelay demo\n");
        yaml.append("listen: ").append(clients).append('\n');
        yaml.append("pool-mode: ").append(poolMode).append('\n');
        yaml.append("admin: { listen: ").append(admin).append(", token: ").append(TOKEN)
                .append(", console-users: [").append(CONSOLE_USER).append("] }\n");
        yaml.append("nodes:\n");
        for (LocalNode node : cluster.nodes()) {
            yaml.append("  - { name: ").append(node.name()).append(", host: ").append(node.host())
                    .append(", port: ").append(node.port()).append(" }\n");
        }
        yaml.append("auth:\n  users:\n");
        yaml.append("    - { name: ").append(APP_USER).append(", password: ").append(APP_USER).append(" }\n");
        yaml.append("    - { name: app_md5, password: app_md5, method: md5 }\n");
        yaml.append("    - { name: ").append(CONSOLE_USER).append(", password: ").append(CONSOLE_USER).append(" }\n");
        yaml.append("monitor: { user: ").append(CONSOLE_USER).append(", password: ").append(CONSOLE_USER)
                .append(", interval: 1s }\n");
        return yaml.toString();
    }

    /** The {@code coordination} section of several proxies; empty for one. */
    String coordination() {
        LocalEtcd running = etcd;
        if (running == null) {
            return "";
        }
        return "coordination: { etcd: { endpoints: " + running.endpointsYaml() + ", prefix: " + ETCD_PREFIX
                + ", ttl: 5s } }\n";
    }

    private String banner(LocalCluster cluster, Address clients, Address admin) {
        StringBuilder b = new StringBuilder("\npgrelay demo is running.\n");
        for (LocalNode node : cluster.nodes()) {
            b.append(String.format("  node %-4s 127.0.0.1:%d  %s%n", node.name(), node.port(),
                    node.isInRecovery() ? "replica" : "primary"));
        }
        for (int i = 0; i < proxies.size(); i++) {
            ProxyProcess p = proxies.get(i);
            b.append(String.format("  %-9s %s  admin %s, pid %d, config %s%n", p.name(), clients.plus(i),
                    admin.plus(i), p.pid(), configFile(i)));
        }
        String host = clients.connectHost();
        int port = clients.port();
        b.append(String.format("%nConnect through the proxy (user %s, password %s, database %s):%n", APP_USER, APP_USER,
                APP_USER));
        b.append(String.format("  psql postgresql://%s:%s@%s:%d/%s%n", APP_USER, APP_USER, host, port, APP_USER));
        b.append(String.format("SQL console (database %s, user %s, password %s; SHOW HELP lists the commands):%n",
                CONSOLE_DATABASE, CONSOLE_USER, CONSOLE_USER));
        b.append(String.format("  psql postgresql://%s:%s@%s:%d/%s -c 'SHOW NODES'%n", CONSOLE_USER, CONSOLE_USER,
                host, port, CONSOLE_DATABASE));
        b.append(String.format("Admin API %s (admin token %s; GET /api/v1/cluster, /metrics, /healthz):%n",
                admin.uri(""), TOKEN));
        b.append(String.format("  curl %s%n", admin.uri("/api/v1/cluster")));
        b.append(String.format("  curl -XPOST -H 'Authorization: Bearer %s' %s%n", TOKEN,
                admin.uri("/api/v1/switchover")));
        if (proxies.size() > 1) {
            b.append(instances(clients, admin));
        }
        b.append("Press Ctrl-C to stop everything.\n");
        return b.toString();
    }

    /** How to reach each of several instances, and the etcd they coordinate through. */
    private String instances(Address clients, Address admin) {
        StringBuilder b = new StringBuilder();
        b.append(String.format("%n%d pgrelay instances coordinate through etcd %s (prefix %s); a load balancer "
                + "would spread clients over them, and a cancel reaches the session through any of them:%n",
                proxies.size(), String.join(",", etcd.endpoints()), ETCD_PREFIX));
        for (int i = 0; i < proxies.size(); i++) {
            Address client = clients.plus(i);
            b.append(String.format("  %-9s psql postgresql://%s:%s@%s:%d/%s%n", proxies.get(i).name(), APP_USER,
                    APP_USER, client.connectHost(), client.port(), APP_USER));
            b.append(String.format("  %-9s curl %s%n", "", admin.plus(i).uri("/api/v1/cluster")));
        }
        b.append(String.format("The instances as each sees them: psql postgresql://%s:%s@%s:%d/%s -c 'SHOW PROXIES'%n",
                CONSOLE_USER, CONSOLE_USER, clients.connectHost(), clients.port(), CONSOLE_DATABASE));
        return b.toString();
    }

    /** The shutdown hook: proxies first (they would see the nodes go), then the cluster, then a temporary dir. */
    private void stop() {
        List<ProxyProcess> running;
        synchronized (this) {
            if (stopped) {
                return;
            }
            stopped = true;
            stopping = true;
            running = List.copyOf(proxies);
        }
        LocalCluster cluster;
        try {
            // a start in progress finishes first (the main thread goes on during shutdown)
            cluster = clusterStarted.get(2, TimeUnit.MINUTES);
        } catch (Exception e) {
            cluster = null;
        }
        if (cluster == null && running.isEmpty()) {
            deleteTemporaryDir();
            return;
        }
        System.out.println("\npgrelay demo: stopping " + (running.stream().anyMatch(ProxyProcess::isAlive)
                ? "pgrelay and " : "") + "the cluster ...");
        for (ProxyProcess proxy : running) {
            proxy.close();
        }
        LocalEtcd coordination;
        synchronized (this) {
            coordination = etcd;
        }
        if (coordination != null) {
            coordination.close();
        }
        if (cluster != null) {
            cluster.close();
        }
        deleteTemporaryDir();
        System.out.println("pgrelay demo: stopped" + (temporaryDir || dir == null ? "" : "; data kept in " + dir));
    }

    private void deleteTemporaryDir() {
        if (temporaryDir && dir != null) {
            try {
                OsSupport.deleteRecursively(dir);
            } catch (IOException | RuntimeException e) {
                System.err.println("pgrelay demo: cannot delete " + dir + ": " + e);
            }
        }
    }

    /** Installs the server packages with apt-get when running as root; otherwise says how. */
    private static boolean installPostgres() throws IOException, InterruptedException {
        boolean apt = new File("/usr/bin/apt-get").canExecute();
        if (!OsSupport.isRoot() || !apt) {
            System.err.println("pgrelay demo: the PostgreSQL server binaries were not found "
                    + "(looked at PG_BIN, pg_config --bindir, /usr/lib/postgresql/*/bin, PATH).");
            System.err.println("Install them, e.g. on Debian/Ubuntu:  sudo apt-get install -y postgresql");
            System.err.println("or point PG_BIN at the directory holding initdb and postgres.");
            return false;
        }
        System.out.println("pgrelay demo: installing PostgreSQL with apt-get ...");
        int update = new ProcessBuilder("apt-get", "update", "-q").inheritIO().start().waitFor();
        ProcessBuilder install = new ProcessBuilder("apt-get", "install", "-y", "-q", "--no-install-recommends",
                "postgresql", "postgresql-contrib").inheritIO();
        install.environment().put("DEBIAN_FRONTEND", "noninteractive");
        if (update != 0 || install.start().waitFor() != 0 || LocalCluster.findBinDir().isEmpty()) {
            System.err.println("pgrelay demo: installing postgresql failed; install it by hand and retry.");
            return false;
        }
        return true;
    }

    /** A {@code host:port} to listen on. */
    record Address(String host, int port) {
        static Address parse(String text, String option) {
            return parse(text, option, 1);
        }

        /** {@code text} as the first of {@code count} consecutive ports. */
        static Address parse(String text, String option, int count) {
            int colon = text.lastIndexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException(option + " " + text + ": expected host:port");
            }
            int port;
            try {
                port = Integer.parseInt(text.substring(colon + 1));
            } catch (NumberFormatException e) {
                port = -1;
            }
            if (port < 1 || port > 65536 - count) {
                throw new IllegalArgumentException(option + " " + text + ": expected a fixed port (1-"
                        + (65536 - count) + (count > 1 ? ", for " + count + " consecutive ports" : "") + ")");
            }
            return new Address(text.substring(0, colon), port);
        }

        Address plus(int offset) {
            return new Address(host, port + offset);
        }

        /** Where a client on this machine connects: loopback for a wildcard address. */
        String connectHost() {
            return host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]") ? "127.0.0.1" : host;
        }

        /** {@code http://host:port<path>} toward {@link #connectHost()}, an IPv6 literal in brackets. */
        URI uri(String path) {
            String connect = connectHost();
            boolean bare = connect.indexOf(':') >= 0 && !connect.startsWith("[");
            return URI.create("http://" + (bare ? "[" + connect + "]" : connect) + ":" + port + path);
        }

        boolean isFree() {
            try (ServerSocket socket = new ServerSocket()) {
                socket.setReuseAddress(true);
                socket.bind(new InetSocketAddress(host.replace("[", "").replace("]", ""), port), 1);
                return true;
            } catch (IOException e) {
                return false;
            }
        }

        @Override
        public String toString() {
            return host + ":" + port;
        }
    }
}
