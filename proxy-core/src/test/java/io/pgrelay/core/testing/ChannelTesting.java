package io.pgrelay.core.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;
import io.pgrelay.protocol.message.Message;
import io.pgrelay.protocol.message.MessageAssertions;
import io.pgrelay.protocol.message.Messages;
import io.pgrelay.protocol.message.backend.ErrorResponse;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Feeding and reading helpers for the EmbeddedChannel tests of proxy-core handlers. Every
 * buffer they allocate or read from a channel is released before they return.
 */
public final class ChannelTesting {
    private ChannelTesting() {
    }

    /** Writes {@code bytes} one byte at a time, each in its own pooled buffer. */
    public static void writeByteByByte(EmbeddedChannel channel, byte[] bytes) {
        for (int i = 0; i < bytes.length; i++) {
            assertThat(channel.isOpen()).as("channel open before byte %d of %d", i, bytes.length).isTrue();
            channel.writeInbound(channel.alloc().buffer(1).writeByte(bytes[i]));
        }
    }

    /** Writes {@code bytes} as one read. */
    public static void writeWhole(EmbeddedChannel channel, byte[] bytes) {
        channel.writeInbound(buffer(channel, bytes));
    }

    /** A pooled copy of {@code bytes}, owned by the caller. */
    public static ByteBuf buffer(EmbeddedChannel channel, byte[] bytes) {
        return channel.alloc().buffer(bytes.length).writeBytes(bytes);
    }

    /** The wire bytes of {@code messages}, one after the other. */
    public static byte[] encode(Message... messages) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Message message : messages) {
            ByteBuf encoded = Messages.encode(ByteBufAllocator.DEFAULT, message);
            try {
                out.writeBytes(ByteBufUtil.getBytes(encoded));
            } finally {
                encoded.release();
            }
        }
        return out.toByteArray();
    }

    public static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    /** Everything the channel has written so far, in order, as one array; every buffer read is released. */
    public static byte[] drainOutbound(EmbeddedChannel channel) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Object message;
        while ((message = channel.readOutbound()) != null) {
            assertThat(message).as("outbound message").isInstanceOf(ByteBuf.class);
            ByteBuf buf = (ByteBuf) message;
            try {
                out.writeBytes(ByteBufUtil.getBytes(buf));
            } finally {
                buf.release();
            }
        }
        return out.toByteArray();
    }

    /** Everything the channel has written so far, split into typed frames (the whole output must be frames). */
    public static List<Frame> drainFrames(EmbeddedChannel channel) {
        return frames(drainOutbound(channel));
    }

    /** Splits a byte stream into typed frames; fails on a trailing partial frame. */
    public static List<Frame> frames(byte[] bytes) {
        List<Frame> frames = new ArrayList<>();
        ByteBuffer in = ByteBuffer.wrap(bytes);
        while (in.hasRemaining()) {
            assertThat(in.remaining()).as("frame header").isGreaterThanOrEqualTo(5);
            byte type = in.get();
            int length = in.getInt();
            assertThat(length).as("frame length").isGreaterThanOrEqualTo(4).isLessThanOrEqualTo(in.remaining() + 4);
            byte[] body = new byte[length - 4];
            in.get(body);
            frames.add(new Frame(type, body));
        }
        return frames;
    }

    /** One typed frame as written on the wire. */
    public record Frame(byte type, byte[] body) {
        /** Decodes the body with a message class's {@code decode}, checking it is consumed entirely. */
        public <T> T decode(Function<ByteBuf, T> decoder) {
            return MessageAssertions.decode(decoder, body);
        }

        public char typeChar() {
            return (char) type;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Frame other && type == other.type && Arrays.equals(body, other.body);
        }

        @Override
        public int hashCode() {
            return 31 * type + Arrays.hashCode(body);
        }

        @Override
        public String toString() {
            return "Frame{" + (char) type + ", " + HexFormat.of().formatHex(body) + '}';
        }
    }

    /** The frame is a FATAL ErrorResponse with this SQLSTATE; returns it for further checks. */
    public static ErrorResponse assertFatal(Frame frame, String sqlState) {
        assertThat(frame.typeChar()).as("frame type of %s", frame).isEqualTo('E');
        ErrorResponse error = frame.decode(ErrorResponse::decode);
        assertThat(error.isFatal()).as("FATAL: %s", error).isTrue();
        assertThat(error.sqlState()).as("SQLSTATE of %s", error).isEqualTo(sqlState);
        return error;
    }
}
