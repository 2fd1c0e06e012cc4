package io.pgrelay.server.demo;

import io.pgrelay.testkit.Processes;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.Socket;
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

/** {@code bin/pgrelay demo} as a user runs it: cluster and proxy come up, psql works, Ctrl-C stops it all. */
class DemoIT {
    private static final Pattern NODE = Pattern.compile("node (pg\\d)\\s+127\\.0\\.0\\.1:(\\d+)\\s+(primary|replica)");

    @Test
    void demoStartsServesAndStopsOnCtrlC() throws Exception {
        Path launcher = Path.of("..", "bin", "pgrelay").toAbsolutePath().normalize();
        assertThat(Files.isExecutable(launcher)).as(launcher + " exists").isTrue();
        int port = freePort();
        int adminPort = freePort();
        Process demo = new ProcessBuilder(launcher.toString(), "demo", "--listen", "127.0.0.1:" + port,
                "--admin-listen", "127.0.0.1:" + adminPort)
                .redirectErrorStream(true)
                .start();
        List<Integer> nodePorts = new ArrayList<>();
        StringBuilder output = new StringBuilder();
        try {
            BufferedReader lines = new BufferedReader(new InputStreamReader(demo.getInputStream(), StandardCharsets.UTF_8));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            String line;
            boolean running = false;
            while (System.nanoTime() < deadline && (line = lines.readLine()) != null) {
                output.append(line).append('\n');
                Matcher node = NODE.matcher(line);
                if (node.find()) {
                    nodePorts.add(Integer.parseInt(node.group(2)));
                }
                if (line.contains("Press Ctrl-C")) {
                    running = true;
                    break;
                }
            }
            assertThat(running).as("demo output:\n" + output).isTrue();
            assertThat(output).contains("psql postgresql://app:app@127.0.0.1:" + port + "/app");
            assertThat(nodePorts).hasSize(3);

            Processes.Result psql = Processes.run(List.of(Processes.pgProgram("psql"),
                    "postgresql://app:app@127.0.0.1:" + port + "/app?sslmode=disable", "-XAtc",
                    "SELECT inet_server_port(), current_user",
                    "-c", "/* pgrelay:primary */ SELECT inet_server_port(), current_user"), Map.of(), null,
                    Duration.ofSeconds(30));
            assertThat(psql.exitCode()).as(psql.output()).isZero();
            String[] answers = psql.stdout().trim().split("\n");
            assertThat(answers).as("a read from a replica, then the hinted read from the primary").containsExactly(
                    answers[0], nodePorts.get(0) + "|app");
            assertThat(answers[0]).isIn(nodePorts.get(1) + "|app", nodePorts.get(2) + "|app");

            new ProcessBuilder("kill", "-INT", String.valueOf(demo.pid())).start().waitFor();
            assertThat(demo.waitFor(30, TimeUnit.SECONDS)).as("demo exits on SIGINT").isTrue();
            demo.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
        } finally {
            if (demo.isAlive()) {
                demo.destroyForcibly();
            }
        }
        for (int nodePort : nodePorts) {
            assertThat(accepting(nodePort)).as("node on port " + nodePort + " stopped").isFalse();
        }
        assertThat(accepting(port)).as("proxy stopped").isFalse();
    }

    private static int freePort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static boolean accepting(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new java.net.InetSocketAddress("127.0.0.1", port), 500);
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }
}
