package io.pgrelay.protocol.message;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.pgrelay.protocol.PgProtocolException;
import io.pgrelay.protocol.SqlState;
import io.pgrelay.testing.Bytes;
import org.assertj.core.api.AbstractThrowableAssert;

import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Byte-level checks shared by the message tests; every buffer they allocate is released. */
public final class MessageAssertions {
    /** Typed frames: type byte and Int32 length. */
    public static final int TYPED_HEADER = 5;
    /** Startup packets: Int32 length only. */
    public static final int UNTYPED_HEADER = 4;

    private static final ByteBufAllocator ALLOC = ByteBufAllocator.DEFAULT;

    private MessageAssertions() {
    }

    /**
     * {@code message} encodes to exactly {@code frame} (also after existing content in the
     * buffer), and decoding the body of {@code frame} consumes it all and gives back an equal
     * message.
     */
    public static <T> T assertRoundTrip(Message message, byte[] frame, int headerLength, Function<ByteBuf, T> decoder) {
        assertEncodes(message, frame);
        T decoded = decode(decoder, Bytes.from(frame, headerLength));
        assertThat(decoded).isEqualTo(message).hasSameHashCodeAs(message);
        assertThat(decoded.toString()).isNotEmpty();
        return decoded;
    }

    public static <T> T assertRoundTrip(Message message, byte[] frame, Function<ByteBuf, T> decoder) {
        return assertRoundTrip(message, frame, TYPED_HEADER, decoder);
    }

    public static void assertEncodes(Message message, byte[] expected) {
        ByteBuf encoded = Messages.encode(ALLOC, message);
        try {
            assertThat(ByteBufUtil.getBytes(encoded)).isEqualTo(expected);
        } finally {
            encoded.release();
        }
        ByteBuf out = ALLOC.buffer().writeBytes(new byte[] {'x', 'y', 'z'});
        try {
            message.encode(out);
            assertThat(ByteBufUtil.getBytes(out, 3, out.readableBytes() - 3)).isEqualTo(expected);
        } finally {
            out.release();
        }
    }

    /** Decodes a body, checking the decoder consumed all of it. */
    public static <T> T decode(Function<ByteBuf, T> decoder, byte[] body) {
        ByteBuf buf = ALLOC.buffer(body.length).writeBytes(body);
        try {
            T decoded = decoder.apply(buf);
            assertThat(buf.isReadable()).as("body fully read").isFalse();
            return decoded;
        } finally {
            buf.release();
        }
    }

    /** Decoding {@code body} fails with a 08P01 PgProtocolException (never an IndexOutOfBounds). */
    public static AbstractThrowableAssert<?, ? extends Throwable> assertViolation(Function<ByteBuf, ?> decoder, byte[] body) {
        ByteBuf buf = ALLOC.buffer(body.length).writeBytes(body);
        try {
            return assertThatThrownBy(() -> decoder.apply(buf))
                    .isInstanceOfSatisfying(PgProtocolException.class,
                            e -> assertThat(e.sqlState()).isEqualTo(SqlState.PROTOCOL_VIOLATION));
        } finally {
            buf.release();
        }
    }

    /** Every strict prefix of {@code body} is a 08P01 violation. */
    public static void assertTruncationsFail(Function<ByteBuf, ?> decoder, byte[] body) {
        for (int length = 0; length < body.length; length++) {
            try {
                assertViolation(decoder, Bytes.prefix(body, length));
            } catch (AssertionError e) {
                throw new AssertionError("prefix of " + length + " bytes: " + e.getMessage(), e);
            }
        }
    }

    /** A byte after a fixed-format body is a 08P01 violation. */
    public static void assertTrailingByteFails(Function<ByteBuf, ?> decoder, byte[] body) {
        assertViolation(decoder, Bytes.of(body, 0)).hasMessage("invalid message format");
    }
}
