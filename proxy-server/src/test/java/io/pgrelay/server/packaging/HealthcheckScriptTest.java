package io.pgrelay.server.packaging;

import io.pgrelay.core.config.ProxyConfig;
import io.pgrelay.server.ConfigLoader;
import io.pgrelay.server.PgRelay;
import io.pgrelay.testkit.FreePorts;
import io.pgrelay.testkit.Processes;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The image's health check, run as Docker runs it, against a pgrelay started from the image's
 * configuration (docker/pgrelay.yml with compose's environment): it passes while the admin API
 * answers {@code GET /healthz} and fails, saying why, when nothing listens. The nodes' compose
 * host names do not resolve here, which {@code /healthz} (liveness) does not depend on.
 */
class HealthcheckScriptTest {
    static final String SCRIPT = "docker/healthcheck.sh";
    static final String HEALTH_PATH = "/healthz";
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @Test
    void passesWhileTheAdminApiAnswersAndFailsWhenItIsGone() throws Exception {
        int port = FreePorts.next();
        int adminPort = FreePorts.next();
        Map<String, String> environment = new HashMap<>(ComposeFile.read(Repository.file("docker/compose.yml"),
                name -> null).service("pgrelay").environment());
        environment.put("PGRELAY_PORT", String.valueOf(port));
        environment.put("PGRELAY_ADMIN_PORT", String.valueOf(adminPort));
        ProxyConfig config = new ConfigLoader(environment::get).load(Repository.file("docker/pgrelay.yml"));
        assertThat(config.admin().listen().port()).isEqualTo(adminPort);

        Map<String, String> check = Map.of("PGRELAY_ADMIN_PORT", String.valueOf(adminPort));
        try (PgRelay relay = PgRelay.start(Repository.file("docker/pgrelay.yml"), config)) {
            Processes.Result healthy = run(check);
            assertThat(healthy.exitCode()).as("health check against a running pgrelay: " + healthy.output()).isZero();
        }
        Processes.Result unhealthy = run(check);
        assertThat(unhealthy.exitCode()).as("health check with pgrelay stopped").isNotZero();
        assertThat(unhealthy.output()).contains("127.0.0.1:" + adminPort);
    }

    @Test
    void failsOnAnAnswerOtherThan200() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread answer = new Thread(() -> {
                try (var socket = server.accept()) {
                    var request = new java.io.BufferedReader(new java.io.InputStreamReader(socket.getInputStream(),
                            StandardCharsets.US_ASCII));
                    String line;
                    do {
                        line = request.readLine();
                    } while (line != null && !line.isEmpty());
                    socket.getOutputStream().write("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                } catch (IOException e) {
                    // the check went away
                }
            }, "not-pgrelay");
            answer.start();
            Processes.Result result = run(Map.of("PGRELAY_ADMIN_PORT", String.valueOf(server.getLocalPort())));
            answer.join(TIMEOUT.toMillis());
            assertThat(result.exitCode()).isNotZero();
            assertThat(result.output()).contains("404 Not Found");
        }
    }

    private static Processes.Result run(Map<String, String> environment) throws Exception {
        return Processes.run(List.of(Repository.file(SCRIPT).toString()), environment, null, TIMEOUT);
    }
}
