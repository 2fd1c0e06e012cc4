package io.pgrelay.server.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgrelay.server.testing.TestProxy;
import io.pgrelay.testkit.LocalNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code GET /metrics} after real pgjdbc traffic through the shared proxy, parsed by the
 * Prometheus project's own text-format parser ({@code prometheus_client.parser} of the Python
 * client, package python3-prometheus-client): it parses, dimensions are labels (no node name in
 * any metric name), every family has a written HELP, latency is a histogram, states are 0/1
 * gauges, and docs/metrics.md lists exactly the families scraped, with their type, labels and HELP.
 */
class PrometheusFormatIT {
    private static final Path DOCS = Path.of("..", "docs", "metrics.md");
    /** A docs table row: name, type, labels, HELP. */
    private static final Pattern DOC_ROW = Pattern.compile("^\\| `([a-z_:]+)` \\| (\\w+) \\| ([^|]*) \\| (.*) \\|$");
    /**
     * Reads the text format on stdin and prints each family as JSON: name as exposed (counters
     * keep {@code _total}), type, HELP, samples with labels.
     */
    private static final String PARSE = """
            import json, sys
            from prometheus_client.parser import text_string_to_metric_families
            out = []
            for f in text_string_to_metric_families(sys.stdin.read()):
                name = f.name + "_total" if f.type == "counter" else f.name
                out.append({"name": name, "type": f.type, "help": f.documentation,
                            "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in f.samples]})
            print(json.dumps(out))
            """;

    private static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static TestProxy proxy;
    /** Families by exposed name, from one scrape after the traffic. */
    private static Map<String, Family> families;

    record Sample(String name, Map<String, String> labels, double value) {
    }

    record Family(String name, String type, String help, List<Sample> samples) {
        Set<String> labelNames() {
            Set<String> names = new TreeSet<>();
            for (Sample sample : samples) {
                names.addAll(sample.labels().keySet());
            }
            names.remove("le");
            return names;
        }
    }

    @BeforeAll
    static void trafficThenScrape() throws Exception {
        proxy = TestProxy.shared();
        try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
            s.execute("SELECT 1");
            s.execute("/* pgrelay:primary */ SELECT 2");
            c.setAutoCommit(false);
            s.execute("SELECT 3");
            s.execute("SELECT 4");
            c.commit();
        }
        families = parse(scrape());
    }

    private static String scrape() throws IOException, InterruptedException {
        URI uri = URI.create("http://127.0.0.1:" + proxy.relay().adminAddress().getPort() + "/metrics");
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("content-type").orElse("")).startsWith("text/plain; version=0.0.4");
        return response.body();
    }

    /** The Python interpreter apt's python3-prometheus-client installs for; a pyenv shim may shadow it. */
    private static String python() {
        return Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
    }

    private static Map<String, Family> parse(String text) throws Exception {
        Process process = new ProcessBuilder(python(), "-c", PARSE).redirectErrorStream(false).start();
        process.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
        process.getOutputStream().close();
        byte[] stdout = process.getInputStream().readAllBytes();
        String stderr = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("parser finished").isTrue();
        assertThat(stderr).as("the Prometheus text parser (needs python3-prometheus-client: apt-get install "
                + "python3-prometheus-client) failed on:%n%s", text).doesNotContain("ModuleNotFoundError");
        assertThat(process.exitValue()).as("the Prometheus text parser rejected the scrape: %s%n%s", stderr, text)
                .isZero();
        Map<String, Family> parsed = new TreeMap<>();
        for (JsonNode f : new ObjectMapper().readTree(stdout)) {
            List<Sample> samples = new ArrayList<>();
            for (JsonNode s : f.get("samples")) {
                Map<String, String> labels = new TreeMap<>();
                s.get("labels").fields().forEachRemaining(e -> labels.put(e.getKey(), e.getValue().asText()));
                samples.add(new Sample(s.get("name").asText(), labels, s.get("value").asDouble()));
            }
            Family family = new Family(f.get("name").asText(), f.get("type").asText(), f.get("help").asText(), samples);
            assertThat(parsed.put(family.name(), family)).as("family %s appears once", family.name()).isNull();
        }
        return parsed;
    }

    private static Family family(String name) {
        assertThat(families).as("families").containsKey(name);
        return families.get(name);
    }

    @Test
    void everyFamilyIsOursTypedAndHasAWrittenHelp() {
        assertThat(families).hasSizeGreaterThan(30);
        for (Family f : families.values()) {
            assertThat(f.name()).startsWith("pgrelay_");
            assertThat(f.type()).as(f.name()).isIn("counter", "gauge", "histogram");
            assertThat(f.help()).as("HELP of %s", f.name()).isNotBlank().doesNotContain("Dropwizard")
                    .doesNotContain("$$Lambda").doesNotContain("metric import");
            assertThat(f.samples()).as("samples of %s", f.name()).isNotEmpty();
            if (f.type().equals("counter")) {
                assertThat(f.name()).endsWith("_total");
            }
        }
    }

    @Test
    void nodesAreLabelsNeverPartOfAName() {
        List<String> nodes = proxy.cluster().nodes().stream().map(LocalNode::name).toList();
        for (Family f : families.values()) {
            for (Sample sample : f.samples()) {
                for (String node : nodes) {
                    assertThat(sample.name()).as("metric name").doesNotContain(node);
                }
                if (f.name().startsWith("pgrelay_node_") || f.name().startsWith("pgrelay_pool_")
                        || f.name().equals("pgrelay_routing_replica_reads_total")) {
                    assertThat(sample.labels()).as("labels of %s", sample.name()).containsKey("node");
                    assertThat(nodes).contains(sample.labels().get("node"));
                }
            }
        }
        Set<String> labelled = new TreeSet<>();
        family("pgrelay_node_timeline").samples().forEach(s -> labelled.add(s.labels().get("node")));
        assertThat(labelled).containsExactlyInAnyOrderElementsOf(nodes);
    }

    @Test
    void statesAndRolesAreOneGaugePerValueWithExactlyOneSet() {
        LocalNode primary = proxy.cluster().primary();
        for (String name : List.of("pgrelay_node_state", "pgrelay_node_role")) {
            String label = name.endsWith("state") ? "state" : "role";
            Family f = family(name);
            assertThat(f.type()).isEqualTo("gauge");
            Map<String, Double> setPerNode = new TreeMap<>();
            for (Sample s : f.samples()) {
                assertThat(s.value()).as(s.toString()).isIn(0.0, 1.0);
                assertThat(s.labels()).containsOnlyKeys("node", label);
                setPerNode.merge(s.labels().get("node"), s.value(), Double::sum);
            }
            assertThat(setPerNode.values()).as("one value set per node in %s", name).containsOnly(1.0);
        }
        assertThat(value("pgrelay_node_role", Map.of("node", primary.name(), "role", "primary"))).isEqualTo(1);
        assertThat(value("pgrelay_node_state", Map.of("node", primary.name(), "state", "up"))).isEqualTo(1);
        for (LocalNode replica : proxy.cluster().replicas()) {
            assertThat(value("pgrelay_node_role", Map.of("node", replica.name(), "role", "replica"))).isEqualTo(1);
        }
    }

    @Test
    void latencyIsAHistogramWithCumulativeBuckets() {
        for (String name : List.of("pgrelay_statement_duration_seconds", "pgrelay_transaction_duration_seconds")) {
            Family f = family(name);
            assertThat(f.type()).isEqualTo("histogram");
            List<Sample> buckets = f.samples().stream().filter(s -> s.name().equals(name + "_bucket")).toList();
            assertThat(buckets).hasSizeGreaterThan(10);
            double previousBound = Double.NEGATIVE_INFINITY;
            double previousCount = 0;
            for (Sample bucket : buckets) {
                double bound = Double.parseDouble(bucket.labels().get("le").replace("+Inf", "Infinity"));
                assertThat(bound).isGreaterThan(previousBound);
                assertThat(bucket.value()).as("cumulative").isGreaterThanOrEqualTo(previousCount);
                previousBound = bound;
                previousCount = bucket.value();
            }
            assertThat(previousBound).isInfinite();
            double count = value(name, name + "_count");
            assertThat(count).as("%s after traffic", name).isPositive().isEqualTo(previousCount);
            assertThat(value(name, name + "_sum")).isPositive();
        }
        // The explicit transaction (two statements, a COMMIT) is at least one more statement than transactions.
        assertThat(value("pgrelay_statement_duration_seconds", "pgrelay_statement_duration_seconds_count"))
                .isGreaterThan(value("pgrelay_transaction_duration_seconds", "pgrelay_transaction_duration_seconds_count"));
    }

    @Test
    void statementsCarryNodeRouteAndKind() {
        Family f = family("pgrelay_node_statements_total");
        for (Sample s : f.samples()) {
            assertThat(s.labels()).containsOnlyKeys("node", "route", "kind");
            assertThat(s.labels().get("route")).isIn("primary", "replica");
        }
        double primaryReads = f.samples().stream()
                .filter(s -> s.labels().get("node").equals(proxy.cluster().primary().name())
                        && s.labels().get("route").equals("primary"))
                .mapToDouble(Sample::value).sum();
        assertThat(primaryReads).as("the hinted SELECT ran on the primary").isPositive();
    }

    @Test
    void docsListExactlyTheScrapedFamiliesWithTheirTypeLabelsAndHelp() throws IOException {
        assertThat(DOCS).as("docs/metrics.md from %s", Path.of("").toAbsolutePath()).exists();
        Map<String, Family> documented = new LinkedHashMap<>();
        for (String line : Files.readAllLines(DOCS)) {
            if (line.startsWith("## Names before")) {
                break; // the table of former names
            }
            Matcher m = DOC_ROW.matcher(line);
            if (m.matches()) {
                Set<String> labels = new TreeSet<>();
                for (String label : m.group(3).split(",")) {
                    String trimmed = label.strip().replace("`", "");
                    if (!trimmed.isEmpty() && !trimmed.equals("—")) {
                        labels.add(trimmed);
                    }
                }
                assertThat(documented.put(m.group(1), new Family(m.group(1), m.group(2), m.group(4),
                        List.of(new Sample("", Map.copyOf(toMap(labels)), 0)))))
                        .as("%s documented once", m.group(1)).isNull();
            }
        }
        assertThat(documented.keySet()).as("documented vs scraped families; the scraped ones as docs rows:%n%s", rows())
                .containsExactlyInAnyOrderElementsOf(families.keySet());
        for (Family doc : documented.values()) {
            Family scraped = families.get(doc.name());
            assertThat(doc.type()).as("type of %s", doc.name()).isEqualTo(scraped.type());
            assertThat(doc.labelNames()).as("labels of %s", doc.name()).isEqualTo(scraped.labelNames());
            assertThat(doc.help()).as("HELP of %s; the scraped ones as docs rows:%n%s", doc.name(), rows())
                    .isEqualTo(scraped.help());
        }
    }

    /** The scraped families as docs/metrics.md rows, to show what a mismatch should read. */
    private static String rows() {
        StringBuilder rows = new StringBuilder();
        for (Family f : families.values()) {
            String labels = f.labelNames().isEmpty() ? "—"
                    : String.join(", ", f.labelNames().stream().map(l -> "`" + l + "`").toList());
            rows.append("| `").append(f.name()).append("` | ").append(f.type()).append(" | ").append(labels)
                    .append(" | ").append(f.help()).append(" |\n");
        }
        return rows.toString();
    }

    private static Map<String, String> toMap(Set<String> labels) {
        Map<String, String> map = new TreeMap<>();
        labels.forEach(l -> map.put(l, ""));
        return map;
    }

    private static double value(String family, Map<String, String> labels) {
        return family(family).samples().stream().filter(s -> s.labels().equals(labels)).findFirst()
                .orElseThrow(() -> new AssertionError("no sample " + family + labels)).value();
    }

    private static double value(String family, String sample) {
        return family(family).samples().stream().filter(s -> s.name().equals(sample)).findFirst()
                .orElseThrow(() -> new AssertionError("no sample " + sample)).value();
    }
}
