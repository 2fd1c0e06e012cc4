package io.pgrelay.server.classify;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgrelay.testkit.LocalCluster;
import io.pgrelay.testkit.corpus.StandbyOracle;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The extra labelled statements (src/test/resources/classify/extra-labels.jsonl) were labelled by
 * running them on the test cluster with {@link StandbyOracle}, the way the corpus README (test-kit)
 * describes; this test checks that every label still holds. With
 * {@code -Dpgrelay.classify.relabel=true} it (re)labels the file in place instead (statements
 * without a valid outcome on either node are dropped and listed). The judgement flags
 * ({@code session_state}, {@code server_local}, {@code session_dependent}) are written by hand,
 * as in the published corpus.
 */
class ExtraLabelsIT {
    static final Path FILE = Path.of("src/test/resources/classify/extra-labels.jsonl");

    @Test
    void labelsStillHold() throws Exception {
        LocalCluster cluster = CorpusDatabase.ensure();
        StandbyOracle oracle = CorpusDatabase.oracle(cluster);
        ObjectMapper mapper = new ObjectMapper();
        boolean relabel = Boolean.getBoolean("pgrelay.classify.relabel");
        List<String> out = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (String line : Files.readAllLines(FILE, StandardCharsets.UTF_8)) {
            if (line.isBlank()) {
                continue;
            }
            ObjectNode n = (ObjectNode) mapper.readTree(line);
            String setup = n.hasNonNull("setup") ? n.get("setup").asText() : null;
            StandbyOracle.Label label = oracle.label(n.get("sql").asText(), setup);
            String id = n.get("id").asText();
            if (relabel) {
                if (label.label().equals("error")) {
                    problems.add(id + ": dropped (" + label.standbySqlState() + " " + label.standbyError() + " / primary: "
                            + label.primaryError() + "): " + n.get("sql").asText());
                    continue;
                }
                n.put("label", label.label());
                n.put("standby_sqlstate", label.standbySqlState());
                n.put("standby_error", label.standbyError());
                n.put("primary_assigned_xid", label.primaryAssignedXid());
                out.add(mapper.writeValueAsString(n));
            } else {
                String expected = n.path("label").asText();
                if (!expected.equals(label.label())
                        || n.path("primary_assigned_xid").asBoolean() != label.primaryAssignedXid()) {
                    problems.add(id + ": labelled " + expected + "/xid=" + n.path("primary_assigned_xid").asBoolean()
                            + " but the cluster says " + label + ": " + n.get("sql").asText());
                }
            }
        }
        if (relabel) {
            Files.write(FILE, out, StandardCharsets.UTF_8);
            problems.forEach(System.out::println);
            System.out.println("relabelled " + out.size() + " statements into " + FILE.toAbsolutePath());
            return;
        }
        assertThat(problems).as("labels that no longer hold").isEmpty();
    }
}
