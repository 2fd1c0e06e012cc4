package io.pgrelay.protocol.message.backend;

import org.junit.jupiter.api.Test;

import java.util.List;

import static io.pgrelay.protocol.message.MessageAssertions.*;
import static io.pgrelay.testing.Bytes.i32;
import static io.pgrelay.testing.Bytes.of;
import static org.assertj.core.api.Assertions.assertThat;

class NegotiateProtocolVersionTest {
    @Test
    void roundTrip() {
        NegotiateProtocolVersion decoded = assertRoundTrip(new NegotiateProtocolVersion(0, List.of("_pq_.compression")),
                of('v', i32(29), i32(0), i32(1), "_pq_.compression", 0), NegotiateProtocolVersion::decode);
        assertThat(decoded.newestMinorVersion()).isZero();
        assertThat(decoded.unrecognizedOptions()).containsExactly("_pq_.compression");
    }

    @Test
    void noOptions() {
        assertRoundTrip(new NegotiateProtocolVersion(2, List.of()), of('v', i32(12), i32(2), i32(0)),
                NegotiateProtocolVersion::decode);
    }

    @Test
    void malformed() {
        byte[] body = of(i32(0), i32(1), "_pq_.x", 0);
        assertTruncationsFail(NegotiateProtocolVersion::decode, body);
        assertTrailingByteFails(NegotiateProtocolVersion::decode, body);
        assertViolation(NegotiateProtocolVersion::decode, of(i32(0), i32(-1))).hasMessage("invalid option count -1");
        assertViolation(NegotiateProtocolVersion::decode, of(i32(0), i32(Integer.MAX_VALUE), "_pq_.x", 0))
                .hasMessageContaining("missing terminator");
    }
}
