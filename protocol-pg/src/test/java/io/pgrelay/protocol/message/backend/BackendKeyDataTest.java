package io.pgrelay.protocol.message.backend;

import org.junit.jupiter.api.Test;

import static io.pgrelay.protocol.message.MessageAssertions.*;
import static io.pgrelay.testing.Bytes.i32;
import static io.pgrelay.testing.Bytes.of;
import static org.assertj.core.api.Assertions.assertThat;

class BackendKeyDataTest {
    @Test
    void roundTrip() {
        BackendKeyData decoded = assertRoundTrip(new BackendKeyData(42, -99), of('K', i32(12), i32(42), i32(-99)),
                BackendKeyData::decode);
        assertThat(decoded.processId()).isEqualTo(42);
        assertThat(decoded.secretKey()).isEqualTo(-99);
        assertThat(new BackendKeyData(42, 987654).toString()).contains("42").doesNotContain("987654");
    }

    @Test
    void malformed() {
        assertTruncationsFail(BackendKeyData::decode, of(i32(42), i32(99)));
        assertTrailingByteFails(BackendKeyData::decode, of(i32(42), i32(99)));
    }
}
