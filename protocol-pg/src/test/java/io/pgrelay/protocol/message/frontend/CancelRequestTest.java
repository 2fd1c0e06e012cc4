package io.pgrelay.protocol.message.frontend;

import org.junit.jupiter.api.Test;

import static io.pgrelay.protocol.message.MessageAssertions.*;
import static io.pgrelay.testing.Bytes.i32;
import static io.pgrelay.testing.Bytes.of;
import static org.assertj.core.api.Assertions.assertThat;

class CancelRequestTest {
    private static final byte[] BODY = of(0x04, 0xd2, 0x16, 0x2e, i32(1234), i32(-559038737));

    @Test
    void roundTrip() {
        CancelRequest decoded = assertRoundTrip(new CancelRequest(1234, 0xdeadbeef), of(i32(16), BODY), UNTYPED_HEADER,
                CancelRequest::decode);
        assertThat(decoded.processId()).isEqualTo(1234);
        assertThat(decoded.secretKey()).isEqualTo(0xdeadbeef);
        assertThat(CancelRequest.CODE).isEqualTo((1234 << 16) | 5678);
    }

    @Test
    void toStringHidesTheSecret() {
        assertThat(new CancelRequest(1234, 987654).toString()).contains("1234").doesNotContain("987654");
    }

    @Test
    void bodyMustBeTwelveBytes() {
        assertViolation(CancelRequest::decode, of(BODY, 0)).hasMessage("invalid length of query cancel packet");
        assertTruncationsFail(CancelRequest::decode, BODY);
    }

    @Test
    void wrongCode() {
        assertViolation(CancelRequest::decode, of(i32(SslRequest.CODE), i32(1), i32(2)))
                .hasMessage("invalid cancel request code");
    }
}
