package io.pgrelay.protocol.message.frontend;

import org.junit.jupiter.api.Test;

import static io.pgrelay.protocol.message.MessageAssertions.*;
import static io.pgrelay.testing.Bytes.i32;
import static io.pgrelay.testing.Bytes.of;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DescribeTest {
    @Test
    void statement() {
        Describe decoded = assertRoundTrip(Describe.statement("s1"), of('D', i32(8), 'S', "s1", 0), Describe::decode);
        assertThat(decoded.kind()).isEqualTo(Describe.KIND_STATEMENT);
        assertThat(decoded.name()).isEqualTo("s1");
    }

    @Test
    void unnamedPortal() {
        Describe decoded = assertRoundTrip(Describe.portal(""), of('D', i32(6), 'P', 0), Describe::decode);
        assertThat(decoded.kind()).isEqualTo(Describe.KIND_PORTAL);
        assertThat(decoded).isNotEqualTo(Describe.statement(""));
    }

    @Test
    void badSubtype() {
        assertViolation(Describe::decode, of('X', "s1", 0)).hasMessage("invalid DESCRIBE message subtype 88");
        assertThatThrownBy(() -> new Describe((byte) 'X', "s1")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void malformed() {
        assertViolation(Describe::decode, of('S', "s1")).hasMessageContaining("missing terminator");
        assertTruncationsFail(Describe::decode, of('S', "s1", 0));
        assertTrailingByteFails(Describe::decode, of('S', "s1", 0));
    }
}
