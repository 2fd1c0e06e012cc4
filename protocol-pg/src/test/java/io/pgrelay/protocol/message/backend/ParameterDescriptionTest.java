package io.pgrelay.protocol.message.backend;

import org.junit.jupiter.api.Test;

import static io.pgrelay.protocol.message.MessageAssertions.*;
import static io.pgrelay.testing.Bytes.i16;
import static io.pgrelay.testing.Bytes.i32;
import static io.pgrelay.testing.Bytes.of;
import static org.assertj.core.api.Assertions.assertThat;

class ParameterDescriptionTest {
    @Test
    void roundTrip() {
        ParameterDescription decoded = assertRoundTrip(new ParameterDescription(new int[] {23, 25}),
                of('t', i32(14), i16(2), i32(23), i32(25)), ParameterDescription::decode);
        assertThat(decoded.typeOids()).containsExactly(23, 25);
    }

    @Test
    void none() {
        assertRoundTrip(new ParameterDescription(new int[0]), of('t', i32(6), i16(0)), ParameterDescription::decode);
    }

    @Test
    void malformed() {
        assertTruncationsFail(ParameterDescription::decode, of(i16(2), i32(23), i32(25)));
        assertTrailingByteFails(ParameterDescription::decode, of(i16(2), i32(23), i32(25)));
    }
}
