package io.pgrelay.protocol.message.frontend;

import io.pgrelay.protocol.message.BackendMessage;
import io.pgrelay.protocol.message.FrontendMessage;
import org.junit.jupiter.api.Test;

import static io.pgrelay.protocol.message.MessageAssertions.*;
import static io.pgrelay.testing.Bytes.i32;
import static io.pgrelay.testing.Bytes.of;
import static org.assertj.core.api.Assertions.assertThat;

class CopyTest {
    @Test
    void copyData() {
        CopyData decoded = assertRoundTrip(new CopyData(new byte[] {'a', 'b', 'c'}), of('d', i32(7), "abc"),
                CopyData::decode);
        assertThat(decoded.data()).containsExactly('a', 'b', 'c');
        assertThat(decoded).isNotEqualTo(new CopyData(new byte[] {'a', 'b'}));
    }

    @Test
    void emptyCopyData() {
        assertRoundTrip(new CopyData(new byte[0]), of('d', i32(4)), CopyData::decode);
    }

    @Test
    void copyDataAndCopyDoneTravelBothWays() {
        assertThat(new CopyData(new byte[0])).isInstanceOf(FrontendMessage.class).isInstanceOf(BackendMessage.class);
        assertThat(CopyDone.INSTANCE).isInstanceOf(FrontendMessage.class).isInstanceOf(BackendMessage.class);
    }

    @Test
    void copyDataIsImmutable() {
        byte[] data = {1};
        CopyData copyData = new CopyData(data);
        data[0] = 2;
        copyData.data()[0] = 3;
        assertThat(copyData.data()).containsExactly(1);
    }

    @Test
    void copyFail() {
        CopyFail decoded = assertRoundTrip(new CopyFail("boom"), of('f', i32(9), "boom", 0), CopyFail::decode);
        assertThat(decoded.message()).isEqualTo("boom");
    }

    @Test
    void malformedCopyFail() {
        assertViolation(CopyFail::decode, of("boom")).hasMessageContaining("missing terminator");
        assertTrailingByteFails(CopyFail::decode, of("boom", 0));
    }
}
