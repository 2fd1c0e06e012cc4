package io.pgrelay.server.metrics;

import io.pgrelay.server.testing.TestProxy;
import io.pgrelay.testkit.LocalNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code GET /metrics} scraped over HTTP while clients use the proxy: the Prometheus text is
 * valid, and the documented metrics (docs/metrics.md) move when the proxy does something.
 */
class MetricsIT {
    /** A sample line: metric name, optional labels, value. */
    private static final Pattern SAMPLE = Pattern.compile("([^\\s{]+)(\\{[^}]*})?\\s+(\\S+)(\\s+\\d+)?");
    private static final Pattern VALID_NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");

    private static TestProxy proxy;
    private static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void start() {
        proxy = TestProxy.start("");
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
    }

    private static String scrapeText() throws IOException, InterruptedException {
        URI uri = URI.create("http://127.0.0.1:" + proxy.relay().adminAddress().getPort() + "/metrics");
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("content-type").orElse("")).startsWith("text/plain");
        return response.body();
    }

    /** Every unlabelled sample by name (labelled ones, e.g. quantiles, by name plus labels). */
    private static Map<String, Double> scrape() throws IOException, InterruptedException {
        Map<String, Double> samples = new HashMap<>();
        for (String line : scrapeText().lines().toList()) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            Matcher m = SAMPLE.matcher(line);
            assertThat(m.matches()).as("sample line: %s", line).isTrue();
            samples.put(m.group(1) + (m.group(2) != null ? m.group(2) : ""), Double.parseDouble(m.group(3)));
        }
        return samples;
    }

    private static double value(Map<String, Double> samples, String name) {
        assertThat(samples).as("metrics").containsKey(name);
        return samples.get(name);
    }

    @Test
    void everyNameIsAValidPrometheusNameAndEveryFamilyHasAType() throws Exception {
        String text = scrapeText();
        int families = 0;
        for (String line : text.lines().toList()) {
            if (line.startsWith("# TYPE ")) {
                String[] parts = line.split(" ");
                assertThat(parts[2]).matches(VALID_NAME);
                assertThat(parts[3]).isIn("counter", "gauge", "summary", "histogram", "untyped", "unknown");
                families++;
            } else if (!line.isBlank() && !line.startsWith("#")) {
                Matcher m = SAMPLE.matcher(line);
                assertThat(m.matches()).as(line).isTrue();
                assertThat(m.group(1)).matches(VALID_NAME);
            }
        }
        assertThat(families).isGreaterThan(30);
        assertThat(text).contains("# TYPE pgrelay_clients_accepted_total counter")
                .contains("# TYPE pgrelay_clients_current gauge")
                .contains("# TYPE pgrelay_query_latency_seconds summary");
    }

    @Test
    void clientConnectionsAreCounted() throws Exception {
        Map<String, Double> before = scrape();
        try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
            s.execute("SELECT 1");
            Map<String, Double> during = scrape();
            assertThat(value(during, "pgrelay_clients_current")).isGreaterThanOrEqualTo(1);
            assertThat(value(during, "pgrelay_clients_accepted_total"))
                    .isEqualTo(value(before, "pgrelay_clients_accepted_total") + 1);
        }
        Properties props = new Properties();
        assertThatThrownBy(() -> proxy.connect("app", "app", "wrong", props)).isInstanceOf(SQLException.class);
        Map<String, Double> after = scrape();
        assertThat(value(after, "pgrelay_clients_refused_total"))
                .isEqualTo(value(before, "pgrelay_clients_refused_total") + 1);
    }

    @Test
    void poolsPerNode() throws Exception {
        String primary = proxy.cluster().primary().name();
        Map<String, Double> before = scrape();
        try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
            s.execute("/* pgrelay:primary */ SELECT 1");
            Map<String, Double> during = scrape();
            assertThat(value(during, "pgrelay_pool_" + primary + "_active")).isGreaterThanOrEqualTo(1);
            assertThat(value(during, "pgrelay_pool_" + primary + "_max")).isEqualTo(50);
            assertThat(value(during, "pgrelay_pool_" + primary + "_waiting")).isZero();
            assertThat(value(during, "pgrelay_pool_" + primary + "_opened_total")).isGreaterThanOrEqualTo(1);
        }
        // A pooled connection is reused or a new one opened; either way the pool knows the connection.
        Map<String, Double> after = scrape();
        assertThat(value(after, "pgrelay_pool_" + primary + "_active") + value(after, "pgrelay_pool_" + primary + "_idle"))
                .isGreaterThanOrEqualTo(value(before, "pgrelay_pool_" + primary + "_idle"));
        assertThat(value(after, "pgrelay_pool_" + primary + "_closed_total")).isGreaterThanOrEqualTo(0);
    }

    @Test
    void monitorFiguresPerNode() throws Exception {
        Map<String, Double> samples = scrape();
        LocalNode primary = proxy.cluster().primary();
        assertThat(value(samples, "pgrelay_node_" + primary.name() + "_up")).isEqualTo(1);
        assertThat(value(samples, "pgrelay_node_" + primary.name() + "_primary")).isEqualTo(1);
        assertThat(value(samples, "pgrelay_node_" + primary.name() + "_state")).isZero();
        assertThat(value(samples, "pgrelay_node_" + primary.name() + "_role")).isZero();
        assertThat(value(samples, "pgrelay_node_" + primary.name() + "_lag_bytes")).isZero();
        assertThat(value(samples, "pgrelay_node_" + primary.name() + "_timeline")).isGreaterThanOrEqualTo(1);
        for (LocalNode replica : proxy.cluster().replicas()) {
            assertThat(value(samples, "pgrelay_node_" + replica.name() + "_primary")).isZero();
            assertThat(value(samples, "pgrelay_node_" + replica.name() + "_role")).isEqualTo(1);
            assertThat(value(samples, "pgrelay_node_" + replica.name() + "_lag_bytes")).isGreaterThanOrEqualTo(0);
            assertThat(value(samples, "pgrelay_node_" + replica.name() + "_lag_ms")).isGreaterThanOrEqualTo(0);
        }
        assertThat(value(samples, "pgrelay_failover_events_total")).isZero();
        assertThat(value(samples, "pgrelay_switchover_events_total")).isZero();
        assertThat(samples).containsKeys("pgrelay_node_" + primary.name() + "_statements_primary_write_total",
                "pgrelay_node_" + primary.name() + "_bytes_sent_total", "pgrelay_statements_local_transaction_total");
    }

    @Test
    void aStoppedReplicaCountsADownAndAnUpTransition() throws Exception {
        LocalNode replica = proxy.cluster().replicas().get(proxy.cluster().replicas().size() - 1);
        String node = "pgrelay_node_" + replica.name();
        Map<String, Double> before = scrape();
        replica.stop();
        try {
            awaitValue(node + "_down_transitions_total", value(before, node + "_down_transitions_total") + 1);
            Map<String, Double> down = scrape();
            assertThat(value(down, node + "_up")).isZero();
            assertThat(value(down, node + "_state")).isEqualTo(1);
        } finally {
            replica.start();
        }
        awaitValue(node + "_up_transitions_total", value(before, node + "_up_transitions_total") + 1);
        assertThat(value(scrape(), node + "_up")).isEqualTo(1);
    }

    private static void awaitValue(String name, double expected) throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        double actual = Double.NaN;
        while (System.currentTimeMillis() < deadline) {
            actual = scrape().getOrDefault(name, Double.NaN);
            if (actual == expected) {
                return;
            }
            Thread.sleep(100);
        }
        assertThat(actual).as(name).isEqualTo(expected);
    }

    @Test
    void classifierCache() throws Exception {
        Map<String, Double> before = scrape();
        try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
            // Literal-blind cache: the second and third statements hit the first one's entry.
            s.execute("SELECT 'metrics-it' AS a, 1 AS b WHERE 1 = 1");
            s.execute("SELECT 'metrics-it' AS a, 2 AS b WHERE 1 = 1");
            s.execute("SELECT 'metrics-it' AS a, 3 AS b WHERE 1 = 1");
        }
        Map<String, Double> after = scrape();
        assertThat(value(after, "pgrelay_classifier_cache_misses_total"))
                .isGreaterThan(value(before, "pgrelay_classifier_cache_misses_total"));
        assertThat(value(after, "pgrelay_classifier_cache_hits_total"))
                .isGreaterThanOrEqualTo(value(before, "pgrelay_classifier_cache_hits_total") + 2);
        assertThat(value(after, "pgrelay_classifier_cache_size")).isGreaterThanOrEqualTo(1);
        assertThat(after).containsKeys("pgrelay_classifier_calcite_parses_total",
                "pgrelay_classifier_calcite_parse_micros_total");
    }
}
