package io.pgrelay.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.util.ByteProcessor;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;

/**
 * Primitive encodings of the PostgreSQL v3 protocol: NUL-terminated strings and frame
 * headers. Every read is bounds-checked and fails with a {@link PgProtocolException}
 * (08P01) rather than an {@code IndexOutOfBoundsException}.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-types.html">Message data types</a>
 */
public final class Wire {
    /** Type byte plus the Int32 length. */
    public static final int HEADER_LENGTH = 5;

    private Wire() {
    }

    /** Reads a NUL-terminated UTF-8 string and moves past its terminator. */
    public static String readCString(ByteBuf buf) {
        return readCString(buf, StandardCharsets.UTF_8);
    }

    public static String readCString(ByteBuf buf, Charset charset) {
        int start = buf.readerIndex();
        int end = cStringEnd(buf, start);
        String value = buf.toString(start, end - start, charset);
        buf.readerIndex(end + 1);
        return value;
    }
    /** Index of the NUL ending the string that starts at {@code index}; indexes do not move. */
    public static int cStringEnd(ByteBuf buf, int index) {
        int end = buf.forEachByte(index, buf.writerIndex() - index, ByteProcessor.FIND_NUL);
        if (end < 0) {
            throw PgProtocolException.violation("invalid string in message: missing terminator");
        }
        return end;
    }

    public static void writeCString(ByteBuf buf, String value) {
        buf.writeCharSequence(value, StandardCharsets.UTF_8);
        buf.writeByte(0);
    }

    public static int readInt(ByteBuf buf) {
        if (buf.readableBytes() < 4) {
            throw PgProtocolException.violation("insufficient data left in message");
        }
        return buf.readInt();
    }

    public static short readShort(ByteBuf buf) {
        if (buf.readableBytes() < 2) {
            throw PgProtocolException.violation("insufficient data left in message");
        }
        return buf.readShort();
    }

    public static byte readByte(ByteBuf buf) {
        if (!buf.isReadable()) {
            throw PgProtocolException.violation("insufficient data left in message");
        }
        return buf.readByte();
    }

    /** Reads {@code length} bytes as a retained-free slice; fails if fewer remain. */
    public static ByteBuf readSlice(ByteBuf buf, int length) {
        if (length < 0 || buf.readableBytes() < length) {
            throw PgProtocolException.violation("insufficient data left in message");
        }
        return buf.readSlice(length);
    }

    /** Reads {@code length} bytes into a new array; fails if fewer remain. */
    public static byte[] readBytes(ByteBuf buf, int length) {
        if (length < 0 || buf.readableBytes() < length) {
            throw PgProtocolException.violation("insufficient data left in message");
        }
        byte[] bytes = new byte[length];
        buf.readBytes(bytes);
        return bytes;
    }

    /** Reads every remaining byte into a new array. */
    public static byte[] readRemaining(ByteBuf buf) {
        return readBytes(buf, buf.readableBytes());
    }

    /** Reads an Int16 element count, which the server treats as unsigned. */
    public static int readCount(ByteBuf buf) {
        return Short.toUnsignedInt(readShort(buf));
    }

    /** Writes an Int16 element count; more than 65535 elements cannot be encoded. */
    public static void writeCount(ByteBuf buf, int count) {
        if (count < 0 || count > 0xffff) {
            throw new IllegalArgumentException("too many elements for an Int16 count: " + count);
        }
        buf.writeShort(count);
    }

    /** Fails unless the whole body was consumed, as the server does ("invalid message format"). */
    public static void requireFullyRead(ByteBuf buf) {
        if (buf.isReadable()) {
            throw PgProtocolException.violation("invalid message format");
        }
    }

    /** Writes a typed frame header with a length placeholder; returns the length's index. */
    public static int beginFrame(ByteBuf buf, byte type) {
        buf.writeByte(type);
        int lengthIndex = buf.writerIndex();
        buf.writeInt(0);
        return lengthIndex;
    }

    /** Fills in the length written by {@link #beginFrame}. */
    public static void endFrame(ByteBuf buf, int lengthIndex) {
        buf.setInt(lengthIndex, buf.writerIndex() - lengthIndex);
    }

    /** Type byte of a whole frame (header included) without moving indexes. */
    public static byte frameType(ByteBuf frame) {
        return frame.getByte(frame.readerIndex());
    }

    /** Body of a whole frame (header included) as a slice, without moving indexes. */
    public static ByteBuf frameBody(ByteBuf frame) {
        return frame.slice(frame.readerIndex() + HEADER_LENGTH, frame.readableBytes() - HEADER_LENGTH);
    }
}
