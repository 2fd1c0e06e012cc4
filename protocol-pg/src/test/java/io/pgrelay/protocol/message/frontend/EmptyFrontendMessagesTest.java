package io.pgrelay.protocol.message.frontend;

import io.netty.buffer.ByteBuf;
import io.pgrelay.protocol.message.Message;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.function.Function;
import java.util.stream.Stream;

import static io.pgrelay.protocol.message.MessageAssertions.*;
import static io.pgrelay.testing.Bytes.i32;
import static io.pgrelay.testing.Bytes.of;
import static org.assertj.core.api.Assertions.assertThat;

class EmptyFrontendMessagesTest {
    static Stream<Arguments> messages() {
        return Stream.of(
                Arguments.of(Sync.INSTANCE, 'S', (Function<ByteBuf, ?>) Sync::decode),
                Arguments.of(Flush.INSTANCE, 'H', (Function<ByteBuf, ?>) Flush::decode),
                Arguments.of(Terminate.INSTANCE, 'X', (Function<ByteBuf, ?>) Terminate::decode),
                Arguments.of(CopyDone.INSTANCE, 'c', (Function<ByteBuf, ?>) CopyDone::decode));
    }

    @ParameterizedTest
    @MethodSource("messages")
    void roundTrip(Message message, char type, Function<ByteBuf, ?> decoder) {
        assertThat(assertRoundTrip(message, of(type, i32(4)), decoder)).isSameAs(message);
        assertThat(message.toString()).isEqualTo(message.getClass().getSimpleName());
    }

    @ParameterizedTest
    @MethodSource("messages")
    void bodyMustBeEmpty(Message message, char type, Function<ByteBuf, ?> decoder) {
        assertTrailingByteFails(decoder, new byte[0]);
    }
}
