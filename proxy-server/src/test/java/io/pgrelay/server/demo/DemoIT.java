package io.pgrelay.server.demo;

import io.pgrelay.testkit.FreePorts;
import io.pgrelay.testkit.Processes;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
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
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code bin/pgrelay demo} as a user runs it: cluster and proxy (a child process) come up, psql
 * works through the proxy and on the console, Ctrl-C stops it all; a proxy that dies is reported
 * and the demo ends.
 */
class DemoIT {
    private static final Pattern NODE = Pattern.compile("node (pg\\d)\\s+127\\.0\\.0\\.1:(\\d+)\\s+(primary|replica)");
    private static final Pattern PROXY = Pattern.compile("pgrelay\\s+127\\.0\\.0\\.1:(\\d+)\\s+admin 127\\.0\\.0\\.1:(\\d+), "
            + "pid (\\d+), config (\\S+)");
    private static final Pattern ADMIN = Pattern.compile("Admin API (\\S+) \\(admin token (\\S+);");
    private static final Pattern DIR = Pattern.compile("streaming replicas in (\\S+) \\.\\.\\.");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(120);

    @Test
    void demoStartsServesAndStopsOnCtrlC() throws Exception {
        assertThat(sigintIgnored())
                .as("SIGINT is ignored in this test JVM (the build was started in the background by a shell without "
                        + "job control, or under nohup-like wrappers): the demo inherits that and cannot be stopped "
                        + "with Ctrl-C, so this test cannot run here; run the build in the foreground")
                .isFalse();
        int port = FreePorts.next();
        int adminPort = FreePorts.next();
        try (Demo demo = Demo.start(port, adminPort)) {
            String output = demo.awaitRunning();
            assertThat(output).contains("psql postgresql://app:app@127.0.0.1:" + port + "/app")
                    .contains("SQL console (database pgrelay, user postgres, password postgres;")
                    .contains("psql postgresql://postgres:postgres@127.0.0.1:" + port + "/pgrelay")
                    .contains("curl http://127.0.0.1:" + adminPort + "/api/v1/cluster")
                    .contains("Authorization: Bearer demo-token")
                    .contains("admin API listening on http://127.0.0.1:" + adminPort + "\n")
                    .doesNotContain("http:///")
                    .doesNotContain("\u001b");
            Matcher admin = demo.find(ADMIN);
            URI adminUrl = URI.create(admin.group(1));
            assertThat(adminUrl.getScheme()).isEqualTo("http");
            assertThat(adminUrl.getHost()).isEqualTo("127.0.0.1");
            assertThat(adminUrl.getPort()).isEqualTo(adminPort);
            assertThat(adminUrl.getPath()).as("the base URL").isEmpty();
            HttpResponse<String> health = http(HttpRequest.newBuilder(URI.create(adminUrl + "/healthz")).GET());
            assertThat(health.statusCode()).as("GET " + adminUrl + "/healthz").isEqualTo(200);
            String token = admin.group(2);
            assertThat(token).isEqualTo("demo-token");
            HttpRequest.Builder async = HttpRequest.newBuilder(URI.create(adminUrl + "/api/v1/replication-mode"))
                    .header("Content-Type", "application/json")
                    .PUT(HttpRequest.BodyPublishers.ofString("{\"mode\": \"async\"}"));
            assertThat(http(async.copy()).statusCode()).as("a change without the token").isEqualTo(401);
            HttpResponse<String> withToken = http(async.copy().header("Authorization", "Bearer " + token));
            assertThat(withToken.statusCode()).as("a change with the printed token: " + withToken.body())
                    .isEqualTo(200);
            List<Integer> nodePorts = demo.nodePorts();
            assertThat(nodePorts).hasSize(3);
            Matcher proxy = demo.find(PROXY);
            assertThat(proxy.group(1)).isEqualTo(String.valueOf(port));
            assertThat(proxy.group(2)).isEqualTo(String.valueOf(adminPort));
            long proxyPid = Long.parseLong(proxy.group(3));
            Path config = Path.of(proxy.group(4));
            assertThat(ProcessHandle.of(proxyPid).flatMap(p -> p.info().commandLine()).orElse(""))
                    .as("the proxy runs as a child process from the generated config")
                    .contains("-jar").contains("pgrelay.jar").contains("run --config " + config);
            assertThat(Files.readString(config)).contains("listen: 127.0.0.1:" + port);
            Path dataDir = Path.of(demo.find(DIR).group(1));
            assertThat(config.getParent()).isEqualTo(dataDir);

            Processes.Result psql = Processes.run(List.of(Processes.pgProgram("psql"),
                    "postgresql://app:app@127.0.0.1:" + port + "/app?sslmode=disable", "-XAtc",
                    "SELECT current_setting('port')::int, current_user",
                    "-c", "/* pgrelay:primary */ SELECT current_setting('port')::int, current_user"), Map.of(), null,
                    Duration.ofSeconds(30));
            assertThat(psql.exitCode()).as(psql.output()).isZero();
            String[] answers = psql.stdout().trim().split("\n");
            assertThat(answers).as("a read from a replica, then the hinted read from the primary").containsExactly(
                    answers[0], nodePorts.get(0) + "|app");
            assertThat(answers[0]).isIn(nodePorts.get(1) + "|app", nodePorts.get(2) + "|app");

            Processes.Result console = Processes.run(List.of(Processes.pgProgram("psql"),
                    "postgresql://postgres:postgres@127.0.0.1:" + port + "/pgrelay?sslmode=disable", "-XAtc",
                    "SHOW NODES"), Map.of(), null, Duration.ofSeconds(30));
            assertThat(console.exitCode()).as(console.output()).isZero();
            assertThat(console.stdout()).contains("pg1|127.0.0.1|" + nodePorts.get(0) + "|primary|up");

            demo.signal("INT");
            assertThat(demo.process.waitFor(60, TimeUnit.SECONDS)).as("demo exits on SIGINT").isTrue();
            assertThat(ProcessHandle.of(proxyPid).map(ProcessHandle::isAlive).orElse(false)).as("proxy stopped")
                    .isFalse();
            assertThat(dataDir).as("temporary data dir deleted").doesNotExist();
            for (int nodePort : nodePorts) {
                assertThat(accepting(nodePort)).as("node on port " + nodePort + " stopped").isFalse();
            }
            assertThat(accepting(port)).as("proxy port closed").isFalse();
        }
    }

    @Test
    void aProxyThatDiesIsReportedAndTheDemoEnds() throws Exception {
        try (Demo demo = Demo.start(FreePorts.next(), FreePorts.next())) {
            demo.awaitRunning();
            List<Integer> nodePorts = demo.nodePorts();
            long proxyPid = Long.parseLong(demo.find(PROXY).group(3));

            new ProcessBuilder("kill", "-KILL", String.valueOf(proxyPid)).start().waitFor();
            assertThat(demo.process.waitFor(60, TimeUnit.SECONDS)).as("demo ends without its proxy").isTrue();
            demo.awaitEndOfOutput();
            assertThat(demo.process.exitValue()).isEqualTo(1);
            assertThat(demo.output()).contains("pgrelay (pid " + proxyPid + ") was killed by signal 9 (SIGKILL)")
                    .contains("its last output")
                    .contains("no pgrelay is left running");
            for (int nodePort : nodePorts) {
                assertThat(accepting(nodePort)).as("node on port " + nodePort + " stopped").isFalse();
            }
        }
    }

    @Test
    void threeProxiesCoordinateThroughEtcdAndStopWithIt() throws Exception {
        int port = freeConsecutivePorts(3);
        int adminPort = freeConsecutivePorts(3);
        try (Demo demo = Demo.start(port, adminPort, "--proxies", "3")) {
            String output = demo.awaitRunning();
            Matcher etcd = demo.find(Pattern.compile("coordinate through etcd http://127\\.0\\.0\\.1:(\\d+) "
                    + "\\(prefix /pgrelay/demo\\)"));
            int etcdPort = Integer.parseInt(etcd.group(1));
            List<Long> pids = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                String name = i == 0 ? "pgrelay" : "pgrelay-" + (i + 1);
                Matcher proxy = demo.find(Pattern.compile(Pattern.quote(name) + "\\s+127\\.0\\.0\\.1:" + (port + i)
                        + "\\s+admin 127\\.0\\.0\\.1:" + (adminPort + i) + ", pid (\\d+), config (\\S+)"));
                pids.add(Long.parseLong(proxy.group(1)));
                assertThat(Files.readString(Path.of(proxy.group(2)))).contains("listen: 127.0.0.1:" + (port + i))
                        .contains("endpoints: [http://127.0.0.1:" + etcdPort + "]").contains("prefix: /pgrelay/demo");
                assertThat(output).contains("psql postgresql://app:app@127.0.0.1:" + (port + i) + "/app")
                        .contains("curl http://127.0.0.1:" + (adminPort + i) + "/api/v1/cluster");
            }
            for (int i = 0; i < 3; i++) {
                URI cluster = URI.create("http://127.0.0.1:" + (adminPort + i) + "/api/v1/cluster");
                await("instance " + i + " lists the three").atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                    String body = http(HttpRequest.newBuilder(cluster).GET()).body();
                    for (int j = 0; j < 3; j++) {
                        assertThat(body).contains("\"address\":\"127.0.0.1:" + (port + j) + "\"");
                    }
                    assertThat(Pattern.compile("\"slot\":\\d+").matcher(body).results().count())
                            .as("each holds a slot: " + body).isEqualTo(3);
                });
                Processes.Result psql = Processes.run(List.of(Processes.pgProgram("psql"),
                        "postgresql://app:app@127.0.0.1:" + (port + i) + "/app?sslmode=disable", "-XAtc", "SELECT 1"),
                        Map.of(), null, Duration.ofSeconds(30));
                assertThat(psql.exitCode()).as(psql.output()).isZero();
                assertThat(psql.stdout().trim()).isEqualTo("1");
            }
            demo.signal("TERM");
            assertThat(demo.process.waitFor(90, TimeUnit.SECONDS)).as("demo exits on SIGTERM").isTrue();
            for (long pid : pids) {
                assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).as("proxy " + pid)
                        .isFalse();
            }
            assertThat(accepting(etcdPort)).as("etcd stopped").isFalse();
        }
    }

    /** The first of {@code count} consecutive free loopback ports. */
    private static int freeConsecutivePorts(int count) throws IOException {
        for (int attempt = 0; attempt < 50; attempt++) {
            int first = FreePorts.next();
            boolean free = first + count <= 65535;
            for (int i = 1; i < count && free; i++) {
                free = !accepting(first + i) && bindable(first + i);
            }
            if (free) {
                return first;
            }
        }
        throw new AssertionError("no " + count + " consecutive free loopback ports");
    }

    private static boolean bindable(int port) {
        try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** {@code bin/pgrelay demo} with its output collected as it comes. */
    private static final class Demo implements AutoCloseable {
        final Process process;
        private final StringBuffer output = new StringBuffer();
        private final Thread reader;

        private Demo(Process process) {
            this.process = process;
            this.reader = new Thread(() -> {
                try (BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = lines.readLine()) != null) {
                        output.append(line).append('\n');
                    }
                } catch (IOException e) {
                    // the demo is gone
                }
            }, "demo-output");
            reader.setDaemon(true);
            reader.start();
        }

        static Demo start(int port, int adminPort, String... more) throws IOException {
            Path launcher = Path.of("..", "bin", "pgrelay").toAbsolutePath().normalize();
            assertThat(Files.isExecutable(launcher)).as(launcher + " exists").isTrue();
            List<String> command = new ArrayList<>(List.of(launcher.toString(), "demo", "--listen",
                    "127.0.0.1:" + port, "--admin-listen", "127.0.0.1:" + adminPort));
            command.addAll(List.of(more));
            return new Demo(new ProcessBuilder(command).redirectErrorStream(true).start());
        }

        String output() {
            return output.toString();
        }

        /** The output up to "Press Ctrl-C"; fails if the demo ends or takes too long. */
        String awaitRunning() {
            await("the demo's banner").atMost(START_TIMEOUT)
                    .until(() -> output().contains("Press Ctrl-C") || !process.isAlive());
            assertThat(output()).as("demo output").contains("Press Ctrl-C");
            return output();
        }

        void awaitEndOfOutput() throws InterruptedException {
            reader.join(10_000);
        }

        List<Integer> nodePorts() {
            List<Integer> ports = new ArrayList<>();
            Matcher node = NODE.matcher(output());
            while (node.find()) {
                ports.add(Integer.parseInt(node.group(2)));
            }
            return ports;
        }

        Matcher find(Pattern pattern) {
            Matcher m = pattern.matcher(output());
            assertThat(m.find()).as(pattern + " in the demo output:\n" + output()).isTrue();
            return m;
        }

        void signal(String name) throws Exception {
            new ProcessBuilder("kill", "-" + name, String.valueOf(process.pid())).start().waitFor();
        }

        /** A demo still running after a failed assertion is stopped as a user would (SIGTERM), then killed. */
        @Override
        public void close() throws Exception {
            if (process.isAlive()) {
                signal("TERM");
                if (!process.waitFor(60, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            }
            System.out.println("demo output:\n" + output());
        }
    }

    /** Whether SIGINT is ignored here (SigIgn in /proc/self/status); children inherit it. */
    private static boolean sigintIgnored() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("SigIgn:")) {
                return (Long.parseUnsignedLong(line.substring(7).trim(), 16) & (1L << 1)) != 0;
            }
        }
        return false;
    }

    private static HttpResponse<String> http(HttpRequest.Builder request) throws Exception {
        return HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build()
                .send(request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static boolean accepting(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
