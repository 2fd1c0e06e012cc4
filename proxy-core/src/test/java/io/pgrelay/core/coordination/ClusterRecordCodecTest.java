package io.pgrelay.core.coordination;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import io.pgrelay.core.config.ProxyConfig.NodeConfig;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The cluster record's JSON, as a table: values that decode to a record, and values refused. */
class ClusterRecordCodecTest {

    static Stream<Arguments> records() {
        return Stream.of(
                Arguments.of(new ClusterRecord(1, "pg1", 1, Set.of(), Set.of(), Set.of(), "async", 0, List.of())),
                Arguments.of(new ClusterRecord(7, "pg2", 3, Set.of("pg1"), Set.of("pg3"), Set.of(), "semi-sync", 1,
                        List.of(new NodeConfig("pg1", "10.0.0.1", 5432, 1), new NodeConfig("pg3", "db3", 6432, 0)))),
                Arguments.of(new ClusterRecord(8, null, 3, Set.of("pg1", "pg2"), Set.of(), Set.of("pg9"), "sync", 2, List.of())),
                Arguments.of(new ClusterRecord(Long.MAX_VALUE, "nödé-ü", 0, Set.of(), Set.of(), Set.of(), "async",
                        0, List.of(new NodeConfig("nödé-ü", "::1", 5433, 7)))));
    }

    @ParameterizedTest
    @MethodSource("records")
    void aRecordSurvivesEncodeAndDecode(ClusterRecord record) {
        assertThat(ClusterRecordCodec.decode(ClusterRecordCodec.encode(record))).isEqualTo(record);
    }

    static Stream<Arguments> decoded() {
        return Stream.of(
                Arguments.of("{\"epoch\":3,\"primary\":\"pg1\"}",
                        new ClusterRecord(3, "pg1", 0, Set.of(), Set.of(), Set.of(), "async", 0, List.of())),
                Arguments.of("{\"epoch\":4,\"primary\":null,\"timeline\":2,\"fenced\":[\"pg1\"],\"future\":true}",
                        new ClusterRecord(4, null, 2, Set.of("pg1"), Set.of(), Set.of(), "async", 0, List.of())),
                Arguments.of("{\"epoch\":5,\"primary\":\"pg2\",\"replicationMode\":{\"mode\":\"sync\",\"acks\":2}}",
                        new ClusterRecord(5, "pg2", 0, Set.of(), Set.of(), Set.of(), "sync", 2, List.of())),
                Arguments.of("{\"epoch\":6,\"nodes\":[{\"name\":\"pg2\",\"host\":\"h2\",\"port\":5433},"
                                + "{\"name\":\"pg1\",\"host\":\"h1\",\"port\":5432,\"weight\":3}]}",
                        new ClusterRecord(6, null, 0, Set.of(), Set.of(), Set.of(), "async", 0,
                                List.of(new NodeConfig("pg1", "h1", 5432, 3), new NodeConfig("pg2", "h2", 5433, 1)))));
    }

    @ParameterizedTest
    @MethodSource("decoded")
    void missingFieldsTakeDefaultsAndUnknownOnesAreIgnored(String json, ClusterRecord expected) {
        assertThat(ClusterRecordCodec.decode(json.getBytes(StandardCharsets.UTF_8))).isEqualTo(expected);
    }

    static Stream<Arguments> refused() {
        return Stream.of(
                Arguments.of("", "no integer \"epoch\""),
                Arguments.of("[1]", "no integer \"epoch\""),
                Arguments.of("{\"primary\":\"pg1\"}", "no integer \"epoch\""),
                Arguments.of("{\"epoch\":\"7\"}", "no integer \"epoch\""),
                Arguments.of("{\"epoch\":1.5}", "no integer \"epoch\""),
                Arguments.of("{\"epoch\":1,\"fenced\":\"pg1\"}", "\"fenced\" must be an array"),
                Arguments.of("{\"epoch\":1,\"drained\":[1]}", "\"drained\" must hold node names"),
                Arguments.of("{\"epoch\":1,\"nodes\":{}}", "\"nodes\" must be an array"),
                Arguments.of("{\"epoch\":1,\"nodes\":[{\"name\":\"pg1\"}]}", "needs a name, a host and a port"),
                Arguments.of("{\"epoch\":1,\"nodes\":[{\"name\":\"pg1\",\"host\":\"h\",\"port\":1,\"weight\":-1}]}",
                        "weight must be >= 0"),
                Arguments.of("{not json", "not JSON"));
    }

    @ParameterizedTest
    @MethodSource("refused")
    void aValueThatIsNotARecordIsRefused(String json, String why) {
        assertThatThrownBy(() -> ClusterRecordCodec.decode(json.getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(why);
    }
}
