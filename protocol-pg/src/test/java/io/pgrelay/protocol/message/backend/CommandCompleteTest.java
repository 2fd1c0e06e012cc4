package io.pgrelay.protocol.message.backend;

import org.junit.jupiter.api.Test;

import static io.pgrelay.protocol.message.MessageAssertions.*;
import static io.pgrelay.testing.Bytes.i32;
import static io.pgrelay.testing.Bytes.of;
import static org.assertj.core.api.Assertions.assertThat;

class CommandCompleteTest {
    @Test
    void roundTrip() {
        CommandComplete decoded = assertRoundTrip(new CommandComplete("INSERT 0 1"), of('C', i32(15), "INSERT 0 1", 0),
                CommandComplete::decode);
        assertThat(decoded.tag()).isEqualTo("INSERT 0 1");
    }

    @Test
    void malformed() {
        assertViolation(CommandComplete::decode, of("BEGIN")).hasMessageContaining("missing terminator");
        assertTrailingByteFails(CommandComplete::decode, of("BEGIN", 0));
    }
}
