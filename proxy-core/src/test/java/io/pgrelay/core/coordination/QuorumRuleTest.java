package io.pgrelay.core.coordination;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The failover quorum as a table: a strict majority of the live instances must see the primary down. */
class QuorumRuleTest {

    /**
     * {@code live}: member ids; {@code reports}: "id=down,down;id=" (an id missing = no report; "-" = none at all).
     */
    @ParameterizedTest(name = "live {0}, reports {1} -> {2} ({3} seeing down)")
    @CsvSource(delimiter = '|', textBlock = """
            a b c   | a=pg1;b=pg1;c=pg1 | true  | 3
            a b c   | a=pg1;b=pg1;c=    | true  | 2
            a b c   | a=pg1;b=;c=       | false | 1
            a b c   | a=pg1             | false | 1
            a b c   | a=pg1;b=pg1       | true  | 2
            a b c   | a=pg2;b=pg2;c=pg2 | false | 0
            a b     | a=pg1;b=          | false | 1
            a b     | a=pg1;b=pg1       | true  | 2
            a       | a=pg1             | true  | 1
            a       | a=                | false | 0
            a b c d | a=pg1;b=pg1;c=    | false | 2
            a b c d | a=pg1;b=pg1;c=pg1 | true  | 3
            a b     | a=pg1;b=pg1;x=pg1 | true  | 2
            a b c   | x=pg1;y=pg1;a=pg1 | false | 1
            """)
    void aStrictMajorityOfTheLiveInstancesDecides(String live, String reports, boolean down, int seeing) {
        Map<String, HealthReport> byMember = new HashMap<>();
        for (String entry : reports.split(";")) {
            String[] parts = entry.split("=", -1);
            Set<String> nodes = parts[1].isEmpty() ? Set.of() : Set.of(parts[1].split(","));
            byMember.put(parts[0], new HealthReport(nodes, 1));
        }
        List<String> members = Arrays.asList(live.trim().split("\\s+"));
        QuorumRule.Verdict verdict = QuorumRule.primaryDown("pg1", members, byMember);
        assertThat(verdict.down()).as(verdict.describe("pg1")).isEqualTo(down);
        assertThat(verdict.seeingDown()).isEqualTo(seeing);
        assertThat(verdict.live()).isEqualTo(members.size());
    }
}
