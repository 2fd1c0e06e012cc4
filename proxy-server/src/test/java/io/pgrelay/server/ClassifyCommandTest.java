package io.pgrelay.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgrelay.core.classify.BuiltinCatalog;
import io.pgrelay.core.classify.Classifier;
import io.pgrelay.core.classify.ClassifierConfig;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code pgrelay classify} without a cluster (built-in catalog). ClassifyCommandIT covers --config. */
class ClassifyCommandTest {
    static List<JsonNode> run(ClassifyCommand command, String input, Classifier classifier) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        command.in = new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8));
        command.out = new PrintStream(out, true, StandardCharsets.UTF_8);
        command.err = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        command.run(classifier, true);
        ObjectMapper mapper = new ObjectMapper();
        List<JsonNode> lines = new java.util.ArrayList<>();
        for (String line : out.toString(StandardCharsets.UTF_8).split("\n")) {
            if (!line.isBlank()) {
                lines.add(mapper.readTree(line));
            }
        }
        return lines;
    }

    @Test
    void classifiesJsonLinesAndCopiesOtherFields() throws Exception {
        Classifier classifier = new Classifier(BuiltinCatalog.get(), ClassifierConfig.defaults());
        List<JsonNode> out = run(new ClassifyCommand(), """
                {"id": "a", "sql": "SELECT 1", "label": "read"}
                {"sql": "SELECT * FROM pg_class FOR UPDATE"}

                {"sql": "BEGIN READ ONLY"}
                {"sql": "EXECUTE q(1)", "setup": "PREPARE q(int) AS SELECT $1"}
                {"sql": "SET search_path TO x; INSERT INTO t VALUES (1)"}
                {"nosql": 1}
                """, classifier);
        assertThat(out).hasSize(6);
        assertThat(out.get(0).get("id").asText()).isEqualTo("a");
        assertThat(out.get(0).get("label").asText()).isEqualTo("read");
        assertThat(out.get(0).get("route").asText()).isEqualTo("replica");
        assertThat(out.get(0).get("kind").asText()).isEqualTo("read");
        assertThat(out.get(0).get("fingerprint").asText()).hasSize(32);
        assertThat(out.get(1).get("route").asText()).isEqualTo("primary");
        assertThat(out.get(1).get("reason").asText()).contains("FOR UPDATE");
        assertThat(out.get(2).get("kind").asText()).isEqualTo("transaction");
        assertThat(out.get(2).get("effects").get(0).get("effect").asText()).isEqualTo("Begin");
        assertThat(out.get(2).get("effects").get(0).get("modes").get("access").asText()).isEqualTo("READ_ONLY");
        assertThat(out.get(4).get("effects").get(0).get("name").asText()).isEqualTo("search_path");
        assertThat(out.get(3).get("route").asText()).isEqualTo("replica");
        assertThat(out.get(4).get("kind").asText()).isEqualTo("write");
        assertThat(out.get(4).get("statements").asInt()).isEqualTo(2);
        assertThat(out.get(5).has("error")).isTrue();
    }

    @Test
    void isASubcommandOfPgrelay() {
        CommandLine cl = new CommandLine(new PgRelayCommand());
        assertThat(cl.getSubcommands()).containsKey("classify");
        assertThat(cl.getSubcommands().get("classify").getCommandSpec().findOption("--database").defaultValue())
                .isEqualTo("postgres");
    }
}
