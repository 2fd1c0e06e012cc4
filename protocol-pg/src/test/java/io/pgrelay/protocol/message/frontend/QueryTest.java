package io.pgrelay.protocol.message.frontend;

import org.junit.jupiter.api.Test;

import static io.pgrelay.protocol.message.MessageAssertions.*;
import static io.pgrelay.testing.Bytes.i32;
import static io.pgrelay.testing.Bytes.of;

class QueryTest {
    @Test
    void roundTrip() {
        assertRoundTrip(new Query("SELECT 1"), of('Q', i32(13), "SELECT 1", 0), Query::decode);
    }

    @Test
    void multiByteCharactersCountAsBytes() {
        assertRoundTrip(new Query("SELECT 'é'"), of('Q', i32(16), "SELECT '", 0xc3, 0xa9, "'", 0), Query::decode);
    }

    @Test
    void malformed() {
        assertViolation(Query::decode, of("SELECT 1")).hasMessageContaining("missing terminator");
        assertTruncationsFail(Query::decode, of("SELECT 1", 0));
        assertTrailingByteFails(Query::decode, of("SELECT 1", 0));
    }
}
