package io.pgrelay.server.metrics;

import io.pgrelay.server.testing.TestProxy;
import io.pgrelay.testkit.LocalNode;
import org.awaitility.Awaitility;
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
import java.util.TreeMap;
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
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

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

    /** Every sample by {@link #key}. */
    private static Map<String, Double> scrape() throws IOException, InterruptedException {
        Map<String, Double> samples = new HashMap<>();
        for (String line : scrapeText().lines().toList()) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            Matcher m = SAMPLE.matcher(line);
            assertThat(m.matches()).as("sample line: %s", line).isTrue();
            Map<String, String> labels = new TreeMap<>();
            if (m.group(2) != null) {
                Matcher label = LABEL.matcher(m.group(2));
                while (label.find()) {
                    labels.put(label.group(1), label.group(2));
                }
            }
            samples.put(m.group(1) + labels, Double.parseDouble(m.group(3)));
        }
        return samples;
    }

    /** A sample's key: its name and its labels in name order; {@code labels} alternate names and values. */
    private static String key(String name, String... labels) {
        Map<String, String> map = new TreeMap<>();
        for (int i = 0; i < labels.length; i += 2) {
            map.put(labels[i], labels[i + 1]);
        }
        return name + map;
    }

    private static double value(Map<String, Double> samples, String name, String... labels) {
        String key = key(name, labels);
        assertThat(samples).as("metrics").containsKey(key);
        return samples.get(key);
    }

    /** The labels of the primary's pool of the test user {@code app} and database {@code app}. */
    private static String[] pool(String... more) {
        String[] labels = {"node", proxy.cluster().primary().name(), "database", "app", "user", "app"};
        String[] all = java.util.Arrays.copyOf(labels, labels.length + more.length);
        System.arraycopy(more, 0, all, labels.length, more.length);
        return all;
    }

    @Test
    void everyNameIsAValidPrometheusNameAndEveryFamilyHasAType() throws Exception {
        String text = scrapeText();
        int families = 0;
        for (String line : text.lines().toList()) {
            if (line.startsWith("# TYPE ")) {
                String[] parts = line.split(" ");
                assertThat(parts[2]).matches(VALID_NAME);
                assertThat(parts[3]).isIn("counter", "gauge", "histogram");
                families++;
            } else if (!line.isBlank() && !line.startsWith("#")) {
                Matcher m = SAMPLE.matcher(line);
                assertThat(m.matches()).as(line).isTrue();
                assertThat(m.group(1)).matches(VALID_NAME);
            }
        }
        assertThat(families).isGreaterThanOrEqualTo(25);
        assertThat(text).contains("# TYPE pgrelay_clients_accepted_total counter")
                .contains("# TYPE pgrelay_clients_connected gauge")
                .contains("# TYPE pgrelay_statement_duration_seconds histogram")
                .contains("# TYPE pgrelay_transaction_duration_seconds histogram");
    }

    @Test
    void clientConnectionsAreCounted() throws Exception {
        Map<String, Double> before = scrape();
        try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
            s.execute("SELECT 1");
            Map<String, Double> during = scrape();
            assertThat(value(during, "pgrelay_clients_connected")).isGreaterThanOrEqualTo(1);
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
    void poolsPerNodeDatabaseAndUser() throws Exception {
        try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
            s.execute("/* pgrelay:primary */ SELECT 1");
            Map<String, Double> during = scrape();
            assertThat(value(during, "pgrelay_pool_connections", pool("state", "active"))).isGreaterThanOrEqualTo(1);
            assertThat(value(during, "pgrelay_pool_max_connections", pool())).isEqualTo(50);
            assertThat(value(during, "pgrelay_pool_waiting_clients", pool())).isZero();
            assertThat(value(during, "pgrelay_pool_connections_opened_total", pool())).isGreaterThanOrEqualTo(1);
        }
        // A pooled connection is reused or a new one opened; either way the pool knows the connection.
        Map<String, Double> after = scrape();
        assertThat(value(after, "pgrelay_pool_connections", pool("state", "active"))
                + value(after, "pgrelay_pool_connections", pool("state", "idle"))).isGreaterThanOrEqualTo(1);
        assertThat(value(after, "pgrelay_pool_connections_closed_total", pool())).isGreaterThanOrEqualTo(0);
    }

    @Test
    void monitorFiguresPerNode() throws Exception {
        Map<String, Double> samples = scrape();
        String primary = proxy.cluster().primary().name();
        assertThat(value(samples, "pgrelay_node_state", "node", primary, "state", "up")).isEqualTo(1);
        assertThat(value(samples, "pgrelay_node_state", "node", primary, "state", "down")).isZero();
        assertThat(value(samples, "pgrelay_node_role", "node", primary, "role", "primary")).isEqualTo(1);
        assertThat(value(samples, "pgrelay_node_role", "node", primary, "role", "replica")).isZero();
        assertThat(value(samples, "pgrelay_node_replication_lag_bytes", "node", primary)).isZero();
        assertThat(value(samples, "pgrelay_node_timeline", "node", primary)).isGreaterThanOrEqualTo(1);
        for (LocalNode replica : proxy.cluster().replicas()) {
            assertThat(value(samples, "pgrelay_node_role", "node", replica.name(), "role", "primary")).isZero();
            assertThat(value(samples, "pgrelay_node_role", "node", replica.name(), "role", "replica")).isEqualTo(1);
            assertThat(value(samples, "pgrelay_node_replication_lag_bytes", "node", replica.name()))
                    .isGreaterThanOrEqualTo(0);
            assertThat(value(samples, "pgrelay_node_replication_lag_seconds", "node", replica.name()))
                    .isGreaterThanOrEqualTo(0);
        }
        assertThat(value(samples, "pgrelay_failovers_total")).isZero();
        assertThat(value(samples, "pgrelay_switchovers_total")).isZero();
        assertThat(samples).containsKeys(
                key("pgrelay_node_statements_total", "node", primary, "route", "primary", "kind", "write"),
                key("pgrelay_node_sent_bytes_total", "node", primary),
                key("pgrelay_local_statements_total", "kind", "transaction"));
    }

    @Test
    void aStoppedReplicaCountsADownAndAnUpTransition() throws Exception {
        LocalNode replica = proxy.cluster().replicas().get(proxy.cluster().replicas().size() - 1);
        String node = replica.name();
        Map<String, Double> before = scrape();
        replica.stop();
        try {
            awaitValue(key("pgrelay_node_down_transitions_total", "node", node),
                    value(before, "pgrelay_node_down_transitions_total", "node", node) + 1);
            Map<String, Double> down = scrape();
            assertThat(value(down, "pgrelay_node_state", "node", node, "state", "up")).isZero();
            assertThat(value(down, "pgrelay_node_state", "node", node, "state", "down")).isEqualTo(1);
        } finally {
            replica.start();
        }
        awaitValue(key("pgrelay_node_up_transitions_total", "node", node),
                value(before, "pgrelay_node_up_transitions_total", "node", node) + 1);
        assertThat(value(scrape(), "pgrelay_node_state", "node", node, "state", "up")).isEqualTo(1);
    }

    private static void awaitValue(String key, double expected) {
        Awaitility.await(key).atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                .until(() -> scrape().getOrDefault(key, Double.NaN), actual -> actual == expected);
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
        assertThat(value(after, "pgrelay_classifier_cache_entries")).isGreaterThanOrEqualTo(1);
        assertThat(after).containsKeys(key("pgrelay_classifier_calcite_parses_total"),
                key("pgrelay_classifier_calcite_parse_seconds_total"));
    }
}
