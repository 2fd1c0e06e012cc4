package io.pgrelay.protocol.message.backend;

import org.junit.jupiter.api.Test;

import static io.pgrelay.protocol.message.MessageAssertions.*;
import static io.pgrelay.testing.Bytes.i16;
import static io.pgrelay.testing.Bytes.i32;
import static io.pgrelay.testing.Bytes.of;
import static org.assertj.core.api.Assertions.assertThat;

class CopyResponseTest {
    @Test
    void copyIn() {
        CopyInResponse decoded = assertRoundTrip(new CopyInResponse((byte) 0, new short[] {0, 0}),
                of('G', i32(11), 0, i16(2), i16(0), i16(0)), CopyInResponse::decode);
        assertThat(decoded.overallFormat()).isZero();
        assertThat(decoded.columnFormats()).containsExactly(0, 0);
        assertThat(decoded.type()).isEqualTo(CopyInResponse.TYPE);
    }

    @Test
    void copyOut() {
        assertRoundTrip(new CopyOutResponse((byte) 1, new short[] {1}), of('H', i32(9), 1, i16(1), i16(1)),
                CopyOutResponse::decode);
    }

    @Test
    void copyBoth() {
        assertRoundTrip(new CopyBothResponse((byte) 0, new short[0]), of('W', i32(7), 0, i16(0)),
                CopyBothResponse::decode);
    }

    @Test
    void directionIsPartOfEquality() {
        assertThat(new CopyInResponse((byte) 0, new short[] {0})).isNotEqualTo(new CopyOutResponse((byte) 0, new short[] {0}));
    }

    @Test
    void malformed() {
        byte[] body = of(0, i16(2), i16(0), i16(0));
        assertTruncationsFail(CopyInResponse::decode, body);
        assertTrailingByteFails(CopyOutResponse::decode, body);
        assertTrailingByteFails(CopyBothResponse::decode, body);
    }
}
