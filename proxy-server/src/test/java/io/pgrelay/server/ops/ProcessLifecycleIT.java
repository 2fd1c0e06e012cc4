package io.pgrelay.server.ops;

import io.pgrelay.testkit.FreePorts;
import io.pgrelay.testkit.LocalCluster;
import io.pgrelay.testkit.LocalNode;
import io.pgrelay.testkit.ProxyProcess;
import io.pgrelay.testkit.TestCluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * pgrelay as a separate process, as operators run it: SIGHUP reloads the file (an invalid one
 * changes nothing and the process keeps serving), and a rolling restart on the same port
 * ({@code listen-reuse-port}) while clients connect in a loop: none is refused, every
 * transaction commits or gets 57P01.
 */
class ProcessLifecycleIT {
    private static final Path JAR = Path.of("target", "pgrelay.jar");
    private final List<ProxyProcess> processes = new ArrayList<>();

    @AfterEach
    void stop() {
        processes.forEach(ProxyProcess::close);
    }

    @Test
    void sighupReloadsTheFileAndAnInvalidOneChangesNothing() throws Exception {
        LocalCluster cluster = TestCluster.get();
        int port = FreePorts.next();
        int adminPort = FreePorts.next();
        Path config = Files.createTempFile("pgrelay-sighup-", ".yaml");
        Files.writeString(config, yaml(cluster, port, adminPort, ""));
        Output output = new Output();
        ProxyProcess proxy = start("sighup", config, output);
        proxy.awaitReady(readyz(adminPort), Duration.ofSeconds(60));
        assertThat(canLogIn(port, "alias", "alias-pw")).isFalse();

        Files.writeString(config, yaml(cluster, port, adminPort,
                "    - { name: alias, password: alias-pw, backend-user: app, backend-password: app }\n"));
        signal("HUP", proxy.pid());
        await().atMost(Duration.ofSeconds(20)).until(() -> canLogIn(port, "alias", "alias-pw"));
        assertThat(output.text()).contains("configuration reloaded (SIGHUP)").contains("added alias");

        Files.writeString(config, "nodes: [ this is not yaml\n");
        signal("HUP", proxy.pid());
        await().atMost(Duration.ofSeconds(20)).until(() -> output.text().contains("refused, nothing changed"));
        assertThat(proxy.isAlive()).isTrue();
        assertThat(canLogIn(port, "alias", "alias-pw")).as("the last good file stays in force").isTrue();
    }

    @Test
    void aRollingRestartOnTheSamePortRefusesNoClient() throws Exception {
        LocalCluster cluster = TestCluster.get();
        LocalNode primary = cluster.primary();
        String table = "rolling_it_" + System.nanoTime();
        try (Connection c = primary.connect("app", "postgres", "postgres"); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE " + table + " (client int, n int)");
            s.execute("GRANT ALL ON " + table + " TO app");
        }
        int port = FreePorts.next();
        int oldAdmin = FreePorts.next();
        int newAdmin = FreePorts.next();
        // Same client port; the admin ports differ only so the test can tell which instance is ready.
        Path oldConfig = Files.createTempFile("pgrelay-old-", ".yaml");
        Files.writeString(oldConfig, yaml(cluster, port, oldAdmin, ""));
        Path newConfig = Files.createTempFile("pgrelay-new-", ".yaml");
        Files.writeString(newConfig, yaml(cluster, port, newAdmin, ""));
        ProxyProcess old = start("old", oldConfig, new Output());
        old.awaitReady(readyz(oldAdmin), Duration.ofSeconds(60));

        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong committed = new AtomicLong();
        AtomicLong adminShutdowns = new AtomicLong();
        List<String> refused = new CopyOnWriteArrayList<>();
        List<String> otherErrors = new CopyOnWriteArrayList<>();
        Map<Integer, Integer> perClient = new ConcurrentHashMap<>();
        List<Thread> clients = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            int client = i;
            Thread thread = new Thread(() -> {
                int n = 0;
                while (running.get()) {
                    try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/app",
                            props())) {
                        c.setAutoCommit(false);
                        try (Statement s = c.createStatement()) {
                            s.execute("INSERT INTO " + table + " VALUES (" + client + ", " + n + ")");
                            s.execute("SELECT pg_sleep(0.02)");
                        }
                        c.commit();
                        n++;
                        committed.incrementAndGet();
                        perClient.merge(client, 1, Integer::sum);
                    } catch (SQLException e) {
                        if ("57P01".equals(e.getSQLState())) {
                            adminShutdowns.incrementAndGet();
                        } else if (causedBy(e, ConnectException.class)) {
                            refused.add(e.toString());
                        } else {
                            otherErrors.add(e.getSQLState() + " " + e);
                        }
                    }
                }
            }, "rolling-client-" + i);
            thread.start();
            clients.add(thread);
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> committed.get() > 20);

        ProxyProcess successor = start("new", newConfig, new Output());
        successor.awaitReady(readyz(newAdmin), Duration.ofSeconds(60));
        long beforeHandOver = committed.get();
        old.close(); // SIGTERM: stops accepting, drains, exits
        assertThat(old.isAlive()).isFalse();
        long atHandOver = committed.get();
        await().atMost(Duration.ofSeconds(30)).until(() -> committed.get() > atHandOver + 20);
        running.set(false);
        for (Thread thread : clients) {
            thread.join(TimeUnit.SECONDS.toMillis(30));
        }

        assertThat(refused).as("refused connections").isEmpty();
        assertThat(otherErrors).as("errors other than 57P01").isEmpty();
        assertThat(committed.get()).isGreaterThan(beforeHandOver);
        try (Connection c = primary.connect("app", "postgres", "postgres"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM " + table)) {
            rs.next();
            assertThat(rs.getLong(1)).as("every acknowledged commit is there").isEqualTo(committed.get());
            s.execute("DROP TABLE " + table);
        }
        System.out.printf("rolling restart: %d transactions committed, %d ended with 57P01, per client %s%n",
                committed.get(), adminShutdowns.get(), perClient);
    }

    private ProxyProcess start(String name, Path config, Output output) {
        assertThat(JAR).as("the runnable jar (built by mvn package)").exists();
        ProxyProcess process = ProxyProcess.start(name, JAR, config, ProxyProcess.inheritableJvmOptions(),
                output.stream());
        processes.add(process);
        return process;
    }

    private static String yaml(LocalCluster cluster, int port, int adminPort, String extraUsers) {
        StringBuilder yaml = new StringBuilder();
        yaml.append("listen: 127.0.0.1:").append(port).append('\n');
        yaml.append("listen-reuse-port: true\n");
        yaml.append("shutdown-timeout: 5s\n");
        yaml.append("admin: { listen: 127.0.0.1:").append(adminPort).append(", token: test-token }\n");
        yaml.append("nodes:\n");
        for (LocalNode node : cluster.nodes()) {
            yaml.append("  - { name: ").append(node.name()).append(", host: ").append(node.host())
                    .append(", port: ").append(node.port()).append(" }\n");
        }
        yaml.append("auth:\n  users:\n    - { name: app, password: app }\n").append(extraUsers);
        yaml.append("monitor: { user: postgres, password: postgres, interval: 250ms }\n");
        yaml.append("failover: { automatic: false }\n");
        return yaml.toString();
    }

    private static Properties props() {
        Properties props = new Properties();
        props.setProperty("user", "app");
        props.setProperty("password", "app");
        props.setProperty("sslmode", "disable");
        props.setProperty("connectTimeout", "10");
        return props;
    }

    private static boolean canLogIn(int port, String user, String password) {
        Properties props = props();
        props.setProperty("user", user);
        props.setProperty("password", password);
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/app", props);
             Statement s = c.createStatement()) {
            s.execute("SELECT 1");
            return true;
        } catch (SQLException e) {
            return false;
        }
    }

    private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    private static void signal(String signal, long pid) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
        assertThat(kill.waitFor()).as("kill -" + signal + " " + pid).isZero();
    }

    private static URI readyz(int adminPort) {
        return URI.create("http://127.0.0.1:" + adminPort + "/readyz");
    }

    /** A child's output: copied to ours and kept, to check what it logged. */
    private static final class Output {
        private final ByteArrayOutputStream kept = new ByteArrayOutputStream();

        PrintStream stream() {
            return new PrintStream(new OutputStream() {
                @Override
                public void write(int b) {
                    synchronized (kept) {
                        kept.write(b);
                    }
                    System.out.write(b);
                }
            }, true, StandardCharsets.UTF_8);
        }

        String text() {
            synchronized (kept) {
                return kept.toString(StandardCharsets.UTF_8);
            }
        }
    }
}
