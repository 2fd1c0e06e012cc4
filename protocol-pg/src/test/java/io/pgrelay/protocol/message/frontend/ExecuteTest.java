package io.pgrelay.protocol.message.frontend;

import org.junit.jupiter.api.Test;

import static io.pgrelay.protocol.message.MessageAssertions.*;
import static io.pgrelay.testing.Bytes.i32;
import static io.pgrelay.testing.Bytes.of;
import static org.assertj.core.api.Assertions.assertThat;

class ExecuteTest {
    @Test
    void unnamedUnlimited() {
        assertRoundTrip(new Execute("", 0), of('E', i32(9), 0, i32(0)), Execute::decode);
    }

    @Test
    void namedWithLimit() {
        Execute decoded = assertRoundTrip(new Execute("p1", 100), of('E', i32(11), "p1", 0, i32(100)), Execute::decode);
        assertThat(decoded.portal()).isEqualTo("p1");
        assertThat(decoded.maxRows()).isEqualTo(100);
    }

    @Test
    void malformed() {
        assertTruncationsFail(Execute::decode, of("p1", 0, i32(100)));
        assertTrailingByteFails(Execute::decode, of("p1", 0, i32(100)));
    }
}
