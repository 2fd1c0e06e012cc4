package io.pgrelay.protocol.message.backend;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static io.pgrelay.protocol.message.MessageAssertions.*;
import static io.pgrelay.testing.Bytes.i32;
import static io.pgrelay.testing.Bytes.of;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AuthenticationTest {
    @Test
    void ok() {
        assertThat(assertRoundTrip(AuthenticationOk.INSTANCE, of('R', i32(8), i32(0)), Authentication::decode))
                .isSameAs(AuthenticationOk.INSTANCE);
        assertThat(AuthenticationOk.INSTANCE.code()).isZero();
    }

    @Test
    void cleartextPassword() {
        assertThat(assertRoundTrip(AuthenticationCleartextPassword.INSTANCE, of('R', i32(8), i32(3)),
                Authentication::decode)).isSameAs(AuthenticationCleartextPassword.INSTANCE);
    }

    @Test
    void md5Password() {
        Authentication decoded = assertRoundTrip(new AuthenticationMd5Password(new byte[] {1, 2, 3, (byte) 0xff}),
                of('R', i32(12), i32(5), 1, 2, 3, 0xff), Authentication::decode);
        assertThat(((AuthenticationMd5Password) decoded).salt()).containsExactly(1, 2, 3, 0xff);
        assertThat(decoded.toString()).contains("010203ff");
        assertThatThrownBy(() -> new AuthenticationMd5Password(new byte[3])).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void md5SaltMustBeFourBytes() {
        assertTruncationsFail(Authentication::decode, of(i32(5), 1, 2, 3, 4));
        assertTrailingByteFails(Authentication::decode, of(i32(5), 1, 2, 3, 4));
    }

    @Test
    void sasl() {
        Authentication decoded = assertRoundTrip(new AuthenticationSasl(List.of("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256")),
                of('R', i32(42), i32(10), "SCRAM-SHA-256-PLUS", 0, "SCRAM-SHA-256", 0, 0), Authentication::decode);
        assertThat(((AuthenticationSasl) decoded).mechanisms()).containsExactly("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256");
    }

    @Test
    void malformedSasl() {
        byte[] body = of(i32(10), "SCRAM-SHA-256", 0, 0);
        assertTruncationsFail(Authentication::decode, body);
        assertTrailingByteFails(Authentication::decode, body);
        assertThatThrownBy(() -> new AuthenticationSasl(List.of(""))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void saslContinue() {
        Authentication decoded = assertRoundTrip(new AuthenticationSaslContinue(ascii("r=abc,s=c2FsdA==,i=4096")),
                of('R', i32(31), i32(11), "r=abc,s=c2FsdA==,i=4096"), Authentication::decode);
        assertThat(((AuthenticationSaslContinue) decoded).data()).isEqualTo(ascii("r=abc,s=c2FsdA==,i=4096"));
    }

    @Test
    void saslFinal() {
        Authentication decoded = assertRoundTrip(new AuthenticationSaslFinal(ascii("v=xyz")),
                of('R', i32(13), i32(12), "v=xyz"), Authentication::decode);
        assertThat(decoded).isNotEqualTo(new AuthenticationSaslContinue(ascii("v=xyz")));
    }

    @Test
    void otherMethodsAreKeptWithTheirName() {
        AuthenticationOther gss = (AuthenticationOther) assertRoundTrip(new AuthenticationOther(7, new byte[0]),
                of('R', i32(8), i32(7)), Authentication::decode);
        assertThat(gss.code()).isEqualTo(7);
        assertThat(gss.methodName()).isEqualTo("GSSAPI");
        AuthenticationOther gssContinue = (AuthenticationOther) assertRoundTrip(
                new AuthenticationOther(8, new byte[] {1, 2}), of('R', i32(10), i32(8), 1, 2), Authentication::decode);
        assertThat(gssContinue.rest()).containsExactly(1, 2);
        assertThat(new AuthenticationOther(9, new byte[0]).methodName()).isEqualTo("SSPI");
        assertThat(new AuthenticationOther(2, new byte[0]).methodName()).isEqualTo("Kerberos V5");
        assertThat(new AuthenticationOther(42, new byte[0]).methodName()).isEqualTo("unknown method 42");
    }

    @Test
    void truncatedCode() {
        assertTruncationsFail(Authentication::decode, i32(0));
        assertTrailingByteFails(Authentication::decode, i32(0));
        assertTrailingByteFails(Authentication::decode, i32(3));
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
