package io.pgrelay.protocol.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import io.pgrelay.protocol.PgProtocolException;
import org.assertj.core.api.AbstractThrowableAssert;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Feeding and reading helpers for the EmbeddedChannel codec tests. */
final class CodecTesting {
    private CodecTesting() {
    }

    /** Writes {@code bytes} one byte at a time, each in its own pooled buffer. */
    static void writeByteByByte(EmbeddedChannel channel, byte[] bytes) {
        for (byte b : bytes) {
            channel.writeInbound(channel.alloc().buffer(1).writeByte(b));
        }
    }

    static ByteBuf copy(EmbeddedChannel channel, byte[] bytes) {
        return channel.alloc().buffer(bytes.length).writeBytes(bytes);
    }

    /** The next inbound message, or null. */
    static Object inbound(EmbeddedChannel channel) {
        return channel.readInbound();
    }

    /** Reads the next inbound ByteBuf, returns its bytes and releases it. */
    static byte[] readBytes(EmbeddedChannel channel) {
        ByteBuf buf = channel.readInbound();
        assertThat(buf).as("inbound buffer").isNotNull();
        try {
            return ByteBufUtil.getBytes(buf);
        } finally {
            buf.release();
        }
    }

    /** The call fails with a DecoderException caused by a PgProtocolException with this SQLSTATE. */
    static AbstractThrowableAssert<?, ? extends Throwable> assertDecoderFails(ThrowingCallable call, String sqlState) {
        return assertThatThrownBy(call)
                .isInstanceOf(DecoderException.class)
                .cause()
                .isInstanceOfSatisfying(PgProtocolException.class, e -> assertThat(e.sqlState()).isEqualTo(sqlState));
    }
}
