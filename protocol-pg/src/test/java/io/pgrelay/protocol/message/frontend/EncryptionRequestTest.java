package io.pgrelay.protocol.message.frontend;

import org.junit.jupiter.api.Test;

import static io.pgrelay.protocol.message.MessageAssertions.*;
import static io.pgrelay.testing.Bytes.i32;
import static io.pgrelay.testing.Bytes.of;
import static org.assertj.core.api.Assertions.assertThat;

class EncryptionRequestTest {
    @Test
    void sslRequest() {
        assertThat(assertRoundTrip(SslRequest.INSTANCE, of(i32(8), 0x04, 0xd2, 0x16, 0x2f), UNTYPED_HEADER,
                SslRequest::decode)).isSameAs(SslRequest.INSTANCE);
        assertThat(SslRequest.CODE).isEqualTo((1234 << 16) | 5679);
    }

    @Test
    void gssEncRequest() {
        assertThat(assertRoundTrip(GssEncRequest.INSTANCE, of(i32(8), 0x04, 0xd2, 0x16, 0x30), UNTYPED_HEADER,
                GssEncRequest::decode)).isSameAs(GssEncRequest.INSTANCE);
        assertThat(GssEncRequest.CODE).isEqualTo((1234 << 16) | 5680);
    }

    @Test
    void malformed() {
        assertViolation(SslRequest::decode, i32(GssEncRequest.CODE)).hasMessage("invalid SSL request code");
        assertViolation(GssEncRequest::decode, i32(SslRequest.CODE)).hasMessage("invalid GSSAPI encryption request code");
        assertTruncationsFail(SslRequest::decode, i32(SslRequest.CODE));
        assertTruncationsFail(GssEncRequest::decode, i32(GssEncRequest.CODE));
        assertTrailingByteFails(SslRequest::decode, i32(SslRequest.CODE));
        assertTrailingByteFails(GssEncRequest::decode, i32(GssEncRequest.CODE));
    }
}
