package io.pgrelay.core.coordination;

import io.pgrelay.core.cluster.Health;
import io.pgrelay.core.cluster.NodeStatus;
import io.pgrelay.core.cluster.Role;
import io.pgrelay.core.cluster.Topology;
import io.pgrelay.core.config.ProxyConfig.NodeConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** What the leader writes into the record from its view, and what every instance routes by once it applies one. */
class RecordKeeperTest {

    /** A node: role p/r, health up/down/fenced/drained, timeline. */
    private static NodeStatus node(int index, String name, Role role, Health health, int timeline) {
        NodeStatus initial = NodeStatus.initial(index, new NodeConfig(name, "127.0.0.1", 5432 + index, 1));
        return new NodeStatus(index, initial.config(), role, health, timeline, 0, 0, 0, 0, 0,
                health == Health.DOWN ? 3 : 0, 1, null, null);
    }

    /** "pg1:p:up:1 pg2:r:up:1 ..." */
    private static Topology topology(String spec) {
        List<NodeStatus> nodes = new ArrayList<>();
        for (String item : spec.trim().split("\\s+")) {
            String[] f = item.split(":");
            nodes.add(node(nodes.size(), f[0], f[1].equals("p") ? Role.PRIMARY : Role.REPLICA,
                    Health.valueOf(f[2].toUpperCase()), Integer.parseInt(f[3])));
        }
        return new Topology(nodes, 0);
    }

    private static ClusterRecord record(String primary, long timeline, String fenced) {
        return new ClusterRecord(5, primary.equals("-") ? null : primary, timeline,
                fenced.equals("-") ? Set.of() : Set.of(fenced.split(",")), Set.of(), Set.of(), "async", 0, List.of());
    }

    @ParameterizedTest(name = "{0} with record primary {1}/{2} -> {3}/{4}")
    @CsvSource(delimiter = '|', textBlock = """
            # leader's view ('none': no record yet; '-': a record naming no primary)
            pg1:p:up:1 pg2:r:up:1 pg3:r:up:1                | none         | 0  | pg1            | 1
            pg1:p:up:1 pg2:r:up:1 pg3:r:up:1                | -            | 1  | -              | 1
            pg1:p:fenced:1 pg2:p:up:2 pg3:r:up:2            | -            | 1  | pg2            | 2
            pg1:p:up:1 pg2:r:up:1 pg3:r:up:1                | pg1          | 1  | pg1            | 1
            pg1:p:down:1 pg2:r:up:1 pg3:r:up:1              | pg1          | 1  | pg1            | 1
            pg1:p:fenced:1 pg2:p:up:2 pg3:r:up:2            | pg1          | 1  | pg2            | 2
            pg1:r:up:2 pg2:p:up:2 pg3:r:up:2                | pg1          | 1  | pg2            | 2
            pg1:p:up:1 pg2:p:up:1 pg3:r:up:1                | pg1          | 1  | pg1            | 1
            pg1:p:up:1 pg2:r:up:1 pg3:r:up:1                | pg2          | 2  | pg2            | 2
            pg1:p:down:1 pg2:r:down:1 pg3:r:down:1          | none         | 0  | -              | 0
            """)
    void theRecordNamesANewPrimaryOnlyOnAHigherTimeline(String view, String primary, long timeline,
                                                        String wantedPrimary, long wantedTimeline) {
        ClusterRecord wanted = RecordKeeper.wanted(topology(view), primary.equals("none") ? null
                : record(primary, timeline, "-"), "async", 0);
        assertThat(wanted.primary()).isEqualTo(wantedPrimary.equals("-") ? null : wantedPrimary);
        assertThat(wanted.timeline()).isEqualTo(wantedTimeline);
    }

    @Test
    void fencedAndDrainedNodesGoIntoTheRecord() {
        Topology view = topology("pg1:p:up:1 pg2:r:fenced:1 pg3:r:drained:1");
        ClusterRecord wanted = RecordKeeper.wanted(view, record("pg1", 1, "-"), "semi-sync", 1);
        assertThat(wanted.fenced()).containsExactly("pg2");
        assertThat(wanted.drained()).containsExactly("pg3");
        assertThat(wanted.mode()).isEqualTo("semi-sync");
        assertThat(wanted.sameStateAs(record("pg1", 1, "-"))).isFalse();
    }

    @ParameterizedTest(name = "{0} under record {1}/{2} -> writes to {3}")
    @CsvSource(delimiter = '|', textBlock = """
            # this instance's view                 | rec. primary | fenced | writes go to
            pg1:p:up:1 pg2:r:up:1 pg3:r:up:1         | pg1          | -      | pg1
            pg1:p:up:1 pg2:r:up:1 pg3:r:up:1         | pg2          | -      | -
            pg1:p:up:1 pg2:p:up:2 pg3:r:up:2         | pg1          | -      | -
            pg1:p:up:1 pg2:p:up:2 pg3:r:up:2         | pg2          | pg1    | pg2
            pg1:p:up:1 pg2:r:up:1 pg3:r:up:1         | -            | -      | -
            pg1:p:up:1 pg2:r:up:1 pg3:r:up:1         | pg1          | pg1    | -
            """)
    void anInstanceWritesOnlyToThePrimaryTheRecordNames(String view, String primary, String fenced, String writes) {
        Topology applied = RecordKeeper.applied(topology(view), record(primary, 1, fenced));
        NodeStatus routed = applied.primary();
        assertThat(routed == null ? "-" : routed.name()).isEqualTo(writes);
        for (String name : fenced.equals("-") ? new String[0] : fenced.split(",")) {
            assertThat(applied.node(name).health()).isEqualTo(Health.FENCED);
        }
    }

    @Test
    void aNodeTheRecordNoLongerFencesComesBack() {
        Topology view = topology("pg1:p:up:1 pg2:r:fenced:1 pg3:r:drained:1");
        Topology applied = RecordKeeper.applied(view, record("pg1", 1, "-"));
        assertThat(applied.node("pg2").health()).isEqualTo(Health.UP);
        assertThat(applied.node("pg3").health()).isEqualTo(Health.UP);
        assertThat(applied.primary().name()).isEqualTo("pg1");
    }

    @Test
    void theRecordCarriesTheLeadersNodesWithWeightsAndKeepsThoseItHasNotTakenIn() {
        Topology view = topology("pg1:p:up:1 pg2:r:up:1 pg3:r:up:1");
        view = view.with(view.node("pg2").withConfig(new NodeConfig("pg2", "127.0.0.1", 5433, 4)));
        view = view.with(view.node("pg3").withHealth(Health.REMOVED));
        ClusterRecord current = new ClusterRecord(5, "pg1", 1, Set.of(), Set.of(), Set.of("old"), "async", 0,
                List.of(new NodeConfig("pg9", "db9", 5432, 2), new NodeConfig("pg3", "127.0.0.1", 5434, 1)));
        ClusterRecord wanted = RecordKeeper.wanted(view, current, "async", 0);
        assertThat(wanted.nodes()).extracting(NodeConfig::name).containsExactly("pg1", "pg2", "pg9");
        assertThat(wanted.node("pg2").weight()).isEqualTo(4);
        assertThat(wanted.removed()).containsExactlyInAnyOrder("pg3", "old");
        assertThat(wanted.sameStateAs(current)).isFalse();
    }

    @Test
    void aNodeRemovedAndAddedAgainUnderItsNameIsLiveNotRemoved() {
        Topology view = topology("pg1:p:up:1 pg2:r:removed:1");
        view = view.withAdded(NodeStatus.initial(2, new NodeConfig("pg2", "10.0.0.2", 5432, 1)));
        ClusterRecord wanted = RecordKeeper.wanted(view, null, "async", 0);
        assertThat(wanted.removed()).isEmpty();
        assertThat(wanted.node("pg2").host()).isEqualTo("10.0.0.2");
    }

    @Test
    void anInstanceTakesTheRecordsWeightsAndKeepsItsOwnAddressForANodeItKnows() {
        Topology view = topology("pg1:p:up:1 pg2:r:up:1 pg3:r:up:1");
        ClusterRecord record = new ClusterRecord(5, "pg1", 1, Set.of(), Set.of(), Set.of(), "async", 0,
                List.of(new NodeConfig("pg1", "127.0.0.1", 5432, 1), new NodeConfig("pg2", "127.0.0.1", 5433, 5),
                        new NodeConfig("pg3", "10.0.0.3", 5432, 1), new NodeConfig("pg4", "10.0.0.4", 5432, 1)));
        Topology applied = RecordKeeper.applied(view, record);
        assertThat(applied.node("pg2").config().weight()).isEqualTo(5);
        assertThat(applied.node("pg2").health()).isEqualTo(Health.UP);
        assertThat(applied.node("pg3").host()).as("pg3 at this instance's address").isEqualTo("127.0.0.1");
        assertThat(applied.node("pg3").health()).isEqualTo(Health.UP);
        assertThat(applied.node("pg4")).as("added apart, asynchronously").isNull();
        assertThat(applied.primary().name()).isEqualTo("pg1");
    }
}
