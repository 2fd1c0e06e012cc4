package io.pgrelay.protocol.message.backend;

import org.junit.jupiter.api.Test;

import static io.pgrelay.protocol.message.MessageAssertions.*;
import static io.pgrelay.testing.Bytes.i32;
import static io.pgrelay.testing.Bytes.of;
import static org.assertj.core.api.Assertions.assertThat;

class NotificationResponseTest {
    @Test
    void roundTrip() {
        NotificationResponse decoded = assertRoundTrip(new NotificationResponse(7, "jobs", "42"),
                of('A', i32(16), i32(7), "jobs", 0, "42", 0), NotificationResponse::decode);
        assertThat(decoded.processId()).isEqualTo(7);
        assertThat(decoded.channel()).isEqualTo("jobs");
        assertThat(decoded.payload()).isEqualTo("42");
    }

    @Test
    void malformed() {
        assertTruncationsFail(NotificationResponse::decode, of(i32(7), "jobs", 0, "42", 0));
        assertTrailingByteFails(NotificationResponse::decode, of(i32(7), "jobs", 0, "42", 0));
    }
}
