package io.pgrelay.server.coordination;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgrelay.testkit.FreePorts;
import io.pgrelay.testkit.LocalCluster;
import io.pgrelay.testkit.LocalEtcd;
import io.pgrelay.testkit.LocalNode;
import io.pgrelay.testkit.NetworkLink;
import io.pgrelay.testkit.ProxyProcess;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Several pgrelay processes (the runnable jar, so a test can kill -9 or SIGSTOP one) coordinating
 * through one etcd in front of one PostgreSQL cluster, each on ports of its own.
 */
final class ProxyFleet implements AutoCloseable {
    private static final Path JAR = Path.of("target", "pgrelay.jar");
    static final String TOKEN = "test-token";
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One instance: its ports and its output (kept, to check what it logged). */
    final class Instance {
        final String name;
        final int port;
        final int adminPort;
        final Path config;
        private final ByteArrayOutputStream output = new ByteArrayOutputStream();
        ProxyProcess process;

        Instance(String name, int port, int adminPort, Path config) {
            this.name = name;
            this.port = port;
            this.adminPort = adminPort;
            this.config = config;
        }

        String admin() {
            return "http://127.0.0.1:" + adminPort;
        }

        String jdbcUrl() {
            return "jdbc:postgresql://127.0.0.1:" + port + "/app";
        }

        String output() {
            synchronized (output) {
                return output.toString(StandardCharsets.UTF_8);
            }
        }

        void start() {
            assertThat(JAR).as("the runnable jar (built by mvn package)").exists();
            PrintStream out = new PrintStream(new OutputStream() {
                @Override
                public void write(int b) {
                    synchronized (output) {
                        output.write(b);
                    }
                    System.out.write(b);
                }
            }, true, StandardCharsets.UTF_8);
            process = ProxyProcess.start(name, JAR, config, ProxyProcess.inheritableJvmOptions(), out);
        }

        void signal(String signal) {
            try {
                Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).inheritIO().start();
                assertThat(kill.waitFor()).as("kill -%s %s", signal, name).isZero();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        void kill9() {
            signal("KILL");
            process.onExit().join();
        }

        /** {@code GET /api/v1/cluster}; null when the instance does not answer. */
        JsonNode cluster() {
            try {
                HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(admin() + "/api/v1/cluster"))
                        .timeout(Duration.ofSeconds(2)).GET().build(), HttpResponse.BodyHandlers.ofString());
                return response.statusCode() == 200 ? JSON.readTree(response.body()) : null;
            } catch (IOException e) {
                return null;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }

        /** This instance's id as it lists itself; null before it registered. */
        String id() {
            JsonNode cluster = cluster();
            if (cluster != null) {
                for (JsonNode proxy : cluster.path("proxies")) {
                    if (proxy.path("self").asBoolean()) {
                        return proxy.get("id").asText();
                    }
                }
            }
            return null;
        }

        /** The leader id this instance reports; null when none or no answer. */
        String leader() {
            JsonNode cluster = cluster();
            return cluster == null || cluster.path("leader").isNull() ? null : cluster.path("leader").asText(null);
        }

        HttpResponse<String> post(String path, String body) throws IOException, InterruptedException {
            return HTTP.send(HttpRequest.newBuilder(URI.create(admin() + "/api/v1" + path))
                    .timeout(Duration.ofSeconds(120)).header("Authorization", "Bearer " + TOKEN)
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        }

        HttpResponse<String> delete(String path) throws IOException, InterruptedException {
            return HTTP.send(HttpRequest.newBuilder(URI.create(admin() + "/api/v1" + path))
                    .timeout(Duration.ofSeconds(120)).header("Authorization", "Bearer " + TOKEN)
                    .DELETE().build(), HttpResponse.BodyHandlers.ofString());
        }

        @Override
        public String toString() {
            return name + "(:" + port + ")";
        }
    }

    final LocalEtcd etcd;
    final String prefix;
    final List<Instance> instances = new ArrayList<>();
    /** With {@code primaryThroughLinks}: instance i reaches the primary through links.get(i), which a test may cut. */
    final List<NetworkLink> links = new ArrayList<>();

    /** Starts {@code count} instances and waits until each is ready (knows a primary). */
    ProxyFleet(LocalEtcd etcd, LocalCluster cluster, int count, Duration ttl, String extraYaml) {
        this(etcd, cluster, count, ttl, extraYaml, false);
    }

    ProxyFleet(LocalEtcd etcd, LocalCluster cluster, int count, Duration ttl, String extraYaml,
               boolean primaryThroughLinks) {
        this.etcd = etcd;
        this.prefix = "/pgrelay/fleet-" + UUID.randomUUID().toString().substring(0, 8);
        try {
            for (int i = 0; i < count; i++) {
                int port = FreePorts.next();
                int adminPort = FreePorts.next();
                Path config = Files.createTempFile("pgrelay-fleet-", ".yaml");
                NetworkLink link = null;
                if (primaryThroughLinks) {
                    link = NetworkLink.to(cluster.primary().host(), cluster.primary().port());
                    links.add(link);
                }
                Files.writeString(config, yaml(cluster, port, adminPort, ttl, extraYaml, link));
                instances.add(new Instance("pgrelay-" + (char) ('a' + i), port, adminPort, config));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        instances.forEach(Instance::start);
        for (Instance instance : instances) {
            instance.process.awaitReady(URI.create(instance.admin() + "/readyz"), Duration.ofSeconds(90));
        }
    }

    Instance get(int index) {
        return instances.get(index);
    }

    private String yaml(LocalCluster cluster, int port, int adminPort, Duration ttl, String extraYaml,
                        NetworkLink toPrimary) {
        String primary = cluster.primary().name();
        StringBuilder yaml = new StringBuilder();
        yaml.append("listen: 127.0.0.1:").append(port).append('\n');
        yaml.append("shutdown-timeout: 5s\n");
        yaml.append("admin: { listen: 127.0.0.1:").append(adminPort).append(", token: ").append(TOKEN).append(" }\n");
        yaml.append("nodes:\n");
        for (LocalNode node : cluster.nodes()) {
            boolean linked = toPrimary != null && node.name().equals(primary);
            yaml.append("  - { name: ").append(node.name()).append(", host: ").append(node.host())
                    .append(", port: ").append(linked ? toPrimary.port() : node.port()).append(" }\n");
        }
        yaml.append("""
                auth:
                  users:
                    - { name: app, password: app }
                    - { name: postgres, password: postgres }
                monitor: { user: postgres, password: postgres, interval: 250ms }
                coordination:
                  etcd:
                    endpoints: %s
                    prefix: %s
                    ttl: %ds
                """.formatted(etcd.endpointsYaml(), prefix, ttl.toSeconds()));
        if (!extraYaml.contains("failover:")) {
            yaml.append("failover: { automatic: false }\n");
        }
        yaml.append(extraYaml);
        return yaml.toString();
    }

    @Override
    public void close() {
        for (Instance instance : instances) {
            if (instance.process != null) {
                if (instance.process.isAlive()) {
                    instance.signal("CONT"); // a stopped one cannot exit
                }
                instance.process.close();
            }
        }
        links.forEach(NetworkLink::close);
    }
}
