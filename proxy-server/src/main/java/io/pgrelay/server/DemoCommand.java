package io.pgrelay.server;

import io.pgrelay.testkit.LocalCluster;
import io.pgrelay.testkit.LocalNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code pgrelay demo}: a local primary and two streaming replicas from this machine's
 * PostgreSQL binaries, with pgrelay in front, until Ctrl-C.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Start a local primary + 2 streaming replicas with pgrelay in front (Ctrl-C stops all).")
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--listen", defaultValue = "127.0.0.1:6432", description = "client address (default ${DEFAULT-VALUE})")
    String listen;

    @Option(names = "--admin-listen", defaultValue = "127.0.0.1:6480",
            description = "admin API address (default ${DEFAULT-VALUE})")
    String adminListen;

    @Option(names = "--data-dir", description = "keep the cluster's data here instead of a temporary directory")
    Path dataDir;

    @Option(names = "--pool-mode", defaultValue = "session", description = "session | transaction")
    String poolMode;

    @Override
    public Integer call() throws Exception {
        if (LocalCluster.findBinDir().isEmpty() && !installPostgres()) {
            return 1;
        }
        System.out.println("pgrelay demo: starting a primary and two streaming replicas ...");
        LocalCluster.Builder builder = LocalCluster.builder().replicas(2);
        if (dataDir != null) {
            builder.baseDir(dataDir).keepData(true);
        }
        LocalCluster cluster = builder.start();
        PgRelay relay;
        try {
            relay = PgRelay.start(new ConfigLoader().parse(config(cluster)));
        } catch (RuntimeException | InterruptedException e) {
            cluster.close();
            throw e;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("\npgrelay demo: stopping the proxy and the cluster ...");
            relay.close();
            cluster.close();
            stopped.countDown();
        }, "pgrelay-demo-shutdown"));

        System.out.println();
        System.out.println("pgrelay demo is running.");
        for (LocalNode node : cluster.nodes()) {
            System.out.printf("  node %-4s 127.0.0.1:%d  %s%n", node.name(), node.port(),
                    node.isInRecovery() ? "replica" : "primary");
        }
        System.out.println();
        System.out.println("Connect through the proxy (user app, password app, database app):");
        System.out.printf("  psql postgresql://app:app@%s:%d/app%n", relay.address().getHostString(),
                relay.address().getPort());
        System.out.printf("Admin API:  curl http://%s:%d/api/v1/cluster%n", relay.adminAddress().getHostString(),
                relay.adminAddress().getPort());
        System.out.println("Press Ctrl-C to stop everything.");
        stopped.await();
        return 0;
    }

    String config(LocalCluster cluster) {
        StringBuilder yaml = new StringBuilder();
        yaml.append("listen: ").append(listen).append('\n');
        yaml.append("pool-mode: ").append(poolMode).append('\n');
        yaml.append("admin: { listen: ").append(adminListen).append(", token: demo-token }\n");
        yaml.append("nodes:\n");
        for (LocalNode node : cluster.nodes()) {
            yaml.append("  - { name: ").append(node.name()).append(", host: ").append(node.host())
                    .append(", port: ").append(node.port()).append(" }\n");
        }
        yaml.append("""
                auth:
                  users:
                    - { name: app, password: app }
                    - { name: app_md5, password: app_md5, method: md5 }
                    - { name: postgres, password: postgres }
                monitor: { user: postgres, password: postgres, interval: 1s }
                """);
        return yaml.toString();
    }

    /** Installs the server packages with apt-get when running as root; otherwise says how. */
    private static boolean installPostgres() throws IOException, InterruptedException {
        boolean root = "root".equals(System.getProperty("user.name"));
        boolean apt = new java.io.File("/usr/bin/apt-get").canExecute();
        if (!root || !apt) {
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
}
