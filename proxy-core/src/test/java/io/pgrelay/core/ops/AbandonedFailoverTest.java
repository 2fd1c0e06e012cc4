package io.pgrelay.core.ops;

import io.pgrelay.core.cluster.Health;
import io.pgrelay.core.cluster.NodeStatus;
import io.pgrelay.core.cluster.Role;
import io.pgrelay.core.cluster.Topology;
import io.pgrelay.core.config.ProxyConfig.NodeConfig;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** When a failover left unfinished may be rolled back: only when the old primary is provably the only one. */
class AbandonedFailoverTest {

    /** "pg1:p:fenced:ok pg2:r:up:down ..." with role p/r/u, health, probes ok/down/never. */
    private static Topology topology(String spec, String recordPrimary) {
        List<NodeStatus> nodes = new ArrayList<>();
        for (String item : spec.trim().split("\\s+")) {
            String[] f = item.split(":");
            int index = nodes.size();
            NodeStatus initial = NodeStatus.initial(index, new NodeConfig(f[0], "127.0.0.1", 5432 + index, 1));
            Role role = switch (f[1]) {
                case "p" -> Role.PRIMARY;
                case "r" -> Role.REPLICA;
                default -> Role.UNKNOWN;
            };
            nodes.add(new NodeStatus(index, initial.config(), role, Health.valueOf(f[2].toUpperCase()), 1, 0, 0, 0, 0,
                    0, f[3].equals("down") ? 3 : 0, f[3].equals("never") ? 0 : 1, null, null));
        }
        return new Topology(nodes, 0).boundTo(recordPrimary.equals("-") ? null : recordPrimary);
    }

    @ParameterizedTest(name = "{0} (record primary {1}) -> {2}")
    @CsvSource(delimiter = '|', textBlock = """
            pg1:p:fenced:ok pg2:r:up:ok pg3:r:up:ok              | -   | pg1
            pg1:p:fenced:ok pg2:r:up:ok pg3:r:up:ok              | pg1 | pg1
            pg1:p:fenced:ok pg2:r:up:ok pg3:r:removed:down       | -   | pg1
            pg1:p:fenced:ok pg2:r:up:ok pg3:r:up:down            | -   | -
            pg1:p:fenced:ok pg2:r:up:ok pg3:u:down:never         | -   | -
            pg1:p:fenced:ok pg2:p:up:ok pg3:r:up:ok              | -   | -
            pg1:p:fenced:down pg2:r:up:ok pg3:r:up:ok            | -   | -
            pg1:p:up:ok pg2:r:up:ok pg3:r:up:ok                  | pg1 | -
            pg1:p:up:ok pg2:r:up:ok pg3:r:up:ok                  | -   | -
            pg1:r:fenced:ok pg2:r:up:ok pg3:r:up:ok              | -   | -
            """)
    void theOldPrimaryIsNamedAgainOnlyWhenEveryNodeAnswersAndItAloneIsOutOfRecovery(String view, String record,
                                                                                     String expected) {
        NodeStatus abandoned = AbandonedFailover.abandonedPrimary(topology(view, record));
        assertThat(abandoned == null ? "-" : abandoned.name()).isEqualTo(expected);
    }
}
