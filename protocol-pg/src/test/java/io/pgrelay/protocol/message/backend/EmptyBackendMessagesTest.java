package io.pgrelay.protocol.message.backend;

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

class EmptyBackendMessagesTest {
    static Stream<Arguments> messages() {
        return Stream.of(
                Arguments.of(ParseComplete.INSTANCE, '1', (Function<ByteBuf, ?>) ParseComplete::decode),
                Arguments.of(BindComplete.INSTANCE, '2', (Function<ByteBuf, ?>) BindComplete::decode),
                Arguments.of(CloseComplete.INSTANCE, '3', (Function<ByteBuf, ?>) CloseComplete::decode),
                Arguments.of(NoData.INSTANCE, 'n', (Function<ByteBuf, ?>) NoData::decode),
                Arguments.of(EmptyQueryResponse.INSTANCE, 'I', (Function<ByteBuf, ?>) EmptyQueryResponse::decode),
                Arguments.of(PortalSuspended.INSTANCE, 's', (Function<ByteBuf, ?>) PortalSuspended::decode));
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
