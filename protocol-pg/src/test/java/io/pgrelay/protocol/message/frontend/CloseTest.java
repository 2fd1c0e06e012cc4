package io.pgrelay.protocol.message.frontend;

import org.junit.jupiter.api.Test;

import static io.pgrelay.protocol.message.MessageAssertions.*;
import static io.pgrelay.testing.Bytes.i32;
import static io.pgrelay.testing.Bytes.of;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CloseTest {
    @Test
    void statement() {
        Close decoded = assertRoundTrip(Close.statement("s1"), of('C', i32(8), 'S', "s1", 0), Close::decode);
        assertThat(decoded.kind()).isEqualTo(Close.KIND_STATEMENT);
        assertThat(decoded.name()).isEqualTo("s1");
    }

    @Test
    void portal() {
        Close decoded = assertRoundTrip(Close.portal("c1"), of('C', i32(8), 'P', "c1", 0), Close::decode);
        assertThat(decoded.kind()).isEqualTo(Close.KIND_PORTAL);
    }

    @Test
    void badSubtype() {
        assertViolation(Close::decode, of(0, 0)).hasMessage("invalid CLOSE message subtype 0");
        assertThatThrownBy(() -> new Close((byte) 's', "s1")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void malformed() {
        assertTruncationsFail(Close::decode, of('P', "c1", 0));
        assertTrailingByteFails(Close::decode, of('P', "c1", 0));
    }
}
