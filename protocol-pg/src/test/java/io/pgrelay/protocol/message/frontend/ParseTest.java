package io.pgrelay.protocol.message.frontend;

import io.pgrelay.testing.Bytes;
import org.junit.jupiter.api.Test;

import static io.pgrelay.protocol.message.MessageAssertions.*;
import static io.pgrelay.testing.Bytes.i16;
import static io.pgrelay.testing.Bytes.i32;
import static io.pgrelay.testing.Bytes.of;
import static org.assertj.core.api.Assertions.assertThat;

class ParseTest {
    private static final byte[] NAMED = of('P', i32(23), "s1", 0, "SELECT $1", 0, i16(1), i32(23));

    @Test
    void named() {
        Parse decoded = assertRoundTrip(new Parse("s1", "SELECT $1", new int[] {23}), NAMED, Parse::decode);
        assertThat(decoded.name()).isEqualTo("s1");
        assertThat(decoded.sql()).isEqualTo("SELECT $1");
        assertThat(decoded.parameterTypes()).containsExactly(23);
    }

    @Test
    void unnamedWithoutTypes() {
        assertRoundTrip(new Parse("", "SELECT 1", new int[0]), of('P', i32(16), 0, "SELECT 1", 0, i16(0)), Parse::decode);
    }

    @Test
    void isImmutable() {
        int[] types = {23};
        Parse parse = new Parse("s1", "SELECT $1", types);
        types[0] = 25;
        parse.parameterTypes()[0] = 25;
        assertThat(parse.parameterTypes()).containsExactly(23);
    }

    @Test
    void countIsUnsigned() {
        assertViolation(Parse::decode, of(0, "SELECT 1", 0, i16(0xffff), i32(23)))
                .hasMessage("insufficient data left in message");
    }

    @Test
    void malformed() {
        byte[] body = Bytes.from(NAMED, 5);
        assertTruncationsFail(Parse::decode, body);
        assertTrailingByteFails(Parse::decode, body);
    }
}
