package io.pgrelay.protocol.message.frontend;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static io.pgrelay.protocol.message.MessageAssertions.*;
import static io.pgrelay.testing.Bytes.i32;
import static io.pgrelay.testing.Bytes.of;
import static org.assertj.core.api.Assertions.assertThat;

class PasswordMessagesTest {
    private static final byte[] CLIENT_FIRST = "n,,n=,r=abc".getBytes(StandardCharsets.US_ASCII);

    @Test
    void password() {
        PasswordMessage decoded = assertRoundTrip(new PasswordMessage("secret"), of('p', i32(11), "secret", 0),
                PasswordMessage::decode);
        assertThat(decoded.password()).isEqualTo("secret");
        assertThat(decoded.toString()).doesNotContain("secret");
    }

    @Test
    void malformedPassword() {
        assertViolation(PasswordMessage::decode, of("secret")).hasMessageContaining("missing terminator");
        assertTrailingByteFails(PasswordMessage::decode, of("secret", 0));
    }

    @Test
    void saslInitialResponse() {
        SaslInitialResponse decoded = assertRoundTrip(new SaslInitialResponse("SCRAM-SHA-256", CLIENT_FIRST),
                of('p', i32(33), "SCRAM-SHA-256", 0, i32(11), "n,,n=,r=abc"), SaslInitialResponse::decode);
        assertThat(decoded.mechanism()).isEqualTo("SCRAM-SHA-256");
        assertThat(decoded.data()).isEqualTo(CLIENT_FIRST);
    }

    @Test
    void saslInitialResponseWithoutData() {
        SaslInitialResponse decoded = assertRoundTrip(new SaslInitialResponse("SCRAM-SHA-256", null),
                of('p', i32(22), "SCRAM-SHA-256", 0, i32(-1)), SaslInitialResponse::decode);
        assertThat(decoded.data()).isNull();
        assertThat(decoded).isNotEqualTo(new SaslInitialResponse("SCRAM-SHA-256", new byte[0]));
    }

    @Test
    void malformedSaslInitialResponse() {
        byte[] body = of("SCRAM-SHA-256", 0, i32(11), "n,,n=,r=abc");
        assertTruncationsFail(SaslInitialResponse::decode, body);
        assertTrailingByteFails(SaslInitialResponse::decode, body);
        assertViolation(SaslInitialResponse::decode, of("SCRAM-SHA-256", 0, i32(-2)))
                .hasMessage("invalid SASL initial response length -2");
        assertViolation(SaslInitialResponse::decode, of("SCRAM-SHA-256", 0, i32(12), "n,,n=,r=abc"))
                .hasMessage("insufficient data left in message");
    }

    @Test
    void saslResponse() {
        SaslResponse decoded = assertRoundTrip(new SaslResponse("c=biws,r=abc,p=xyz".getBytes(StandardCharsets.US_ASCII)),
                of('p', i32(22), "c=biws,r=abc,p=xyz"), SaslResponse::decode);
        assertThat(decoded.toString()).isEqualTo("SaslResponse{18 bytes}");
    }
}
