package io.pgrelay.server.classify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgrelay.testkit.LocalCluster;
import io.pgrelay.testkit.LocalNode;
import io.pgrelay.testkit.Processes;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code java -jar proxy-server/target/pgrelay.jar classify --config FILE --database corpus}: the
 * catalog is loaded from the configured cluster's primary (found among the nodes), so unlogged
 * tables, views over writing functions and user functions are decided as the proxy decides them.
 */
class ClassifyCommandIT {
    @Test
    void loadsTheCatalogFromTheConfiguredPrimary() throws Exception {
        LocalCluster cluster = CorpusDatabase.ensure();
        Path jar = Path.of("target/pgrelay.jar");
        assertThat(jar).as("run after 'package'").exists();
        StringBuilder yaml = new StringBuilder("nodes:\n");
        // the replicas first: the command must find the primary itself
        List<LocalNode> nodes = new ArrayList<>(cluster.replicas());
        nodes.add(cluster.primary());
        for (LocalNode n : nodes) {
            yaml.append("  - { name: ").append(n.name()).append(", host: ").append(n.host()).append(", port: ")
                    .append(n.port()).append(" }\n");
        }
        yaml.append("monitor:\n  user: postgres\n  password: \"").append(cluster.superuser().password()).append("\"\n");
        yaml.append("routing:\n  write-functions: [public.add_tax]\n");
        Path config = Files.createTempFile("pgrelay-classify", ".yml");
        try {
            Files.writeString(config, yaml);
            String input = """
                    {"id": 1, "sql": "SELECT * FROM session_cache"}
                    {"id": 2, "sql": "SELECT * FROM customers WHERE id = 1"}
                    {"id": 3, "sql": "SELECT count(*) FROM product_catalog_logged"}
                    {"id": 4, "sql": "SELECT peek_next_invoice()"}
                    {"id": 5, "sql": "SELECT product_price('SKU-0001')"}
                    {"id": 6, "sql": "SELECT add_tax(1)"}
                    {"id": 7, "sql": "CALL count_orders()"}
                    """;
            Processes.Result r = Processes.run(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-jar", jar.toString(), "classify", "--config", config.toString(), "--database", "corpus"),
                    Map.of(), input, Duration.ofSeconds(60));
            assertThat(r.exitCode()).as(r.output()).isZero();
            ObjectMapper mapper = new ObjectMapper();
            List<String> routes = new ArrayList<>();
            for (String line : r.stdout().split("\n")) {
                if (!line.isBlank()) {
                    JsonNode n = mapper.readTree(line);
                    routes.add(n.get("id").asInt() + "=" + n.get("route").asText());
                }
            }
            assertThat(routes).containsExactly("1=primary", "2=replica", "3=primary", "4=primary", "5=replica",
                    "6=primary", "7=replica");
            assertThat(r.stderr()).contains("catalog of database corpus");
        } finally {
            Files.deleteIfExists(config);
        }
    }
}
