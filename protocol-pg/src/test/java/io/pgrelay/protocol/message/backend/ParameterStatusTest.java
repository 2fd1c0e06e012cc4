package io.pgrelay.protocol.message.backend;

import org.junit.jupiter.api.Test;

import static io.pgrelay.protocol.message.MessageAssertions.*;
import static io.pgrelay.testing.Bytes.i32;
import static io.pgrelay.testing.Bytes.of;
import static org.assertj.core.api.Assertions.assertThat;

class ParameterStatusTest {
    @Test
    void roundTrip() {
        ParameterStatus decoded = assertRoundTrip(new ParameterStatus("client_encoding", "UTF8"),
                of('S', i32(25), "client_encoding", 0, "UTF8", 0), ParameterStatus::decode);
        assertThat(decoded.name()).isEqualTo("client_encoding");
        assertThat(decoded.value()).isEqualTo("UTF8");
    }

    @Test
    void malformed() {
        assertViolation(ParameterStatus::decode, of("client_encoding", 0, "UTF8")).hasMessageContaining("missing terminator");
        assertTruncationsFail(ParameterStatus::decode, of("a", 0, "b", 0));
        assertTrailingByteFails(ParameterStatus::decode, of("a", 0, "b", 0));
    }
}
