package io.pgrelay.protocol.message.frontend;

import io.netty.buffer.ByteBuf;
import io.netty.util.ByteProcessor;
import io.pgrelay.protocol.PgProtocolException;
import io.pgrelay.protocol.Wire;

import java.nio.charset.StandardCharsets;

/**
 * What a proxy reads from a whole frontend frame (header included) without decoding it: the
 * statement a Parse, Bind, Describe or Close names and where the SQL text of a Query or Parse
 * lies. Indexes never move; the unnamed statement costs no allocation.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html">Message formats</a>
 */
public final class FramePeek {
    private FramePeek() {
    }

    private static int body(ByteBuf frame) {
        return frame.readerIndex() + Wire.HEADER_LENGTH;
    }

    private static int nul(ByteBuf frame, int from, String message) {
        int end = frame.writerIndex();
        int at = from < end ? frame.forEachByte(from, end - from, ByteProcessor.FIND_NUL) : -1;
        if (at < 0) {
            throw PgProtocolException.violation("invalid " + message + " message");
        }
        return at;
    }

    private static String text(ByteBuf frame, int from, int to) {
        return from == to ? "" : frame.toString(from, to - from, StandardCharsets.UTF_8);
    }

    /** Index of the first byte of a Query's SQL text. */
    public static int querySqlStart(ByteBuf frame) {
        return body(frame);
    }

    /** Length of a Query's SQL text (without its NUL). */
    public static int querySqlLength(ByteBuf frame) {
        int length = frame.readableBytes() - Wire.HEADER_LENGTH - 1;
        if (length < 0) {
            throw PgProtocolException.violation("invalid Query message");
        }
        return length;
    }

    /** The statement name of a Parse ("" for the unnamed statement). */
    public static String parseName(ByteBuf frame) {
        int start = body(frame);
        return text(frame, start, nul(frame, start, "Parse"));
    }

    /** Index of the first byte of a Parse's SQL text. */
    public static int parseSqlStart(ByteBuf frame) {
        return nul(frame, body(frame), "Parse") + 1;
    }

    /** Length of a Parse's SQL text (without its NUL). */
    public static int parseSqlLength(ByteBuf frame) {
        int start = parseSqlStart(frame);
        return nul(frame, start, "Parse") - start;
    }

    /** The statement a Bind binds ("" for the unnamed statement). */
    public static String bindStatement(ByteBuf frame) {
        int portalEnd = nul(frame, body(frame), "Bind");
        int start = portalEnd + 1;
        return text(frame, start, nul(frame, start, "Bind"));
    }

    /** As {@link #bindStatement(ByteBuf)}, the same String as before for a name {@code names} has seen. */
    public static String bindStatement(ByteBuf frame, FrameNames names) {
        int portalEnd = nul(frame, body(frame), "Bind");
        int start = portalEnd + 1;
        return names.text(frame, start, nul(frame, start, "Bind"));
    }

    /** 'S' when a Describe or Close names a statement, 'P' for a portal. */
    public static byte target(ByteBuf frame) {
        if (frame.readableBytes() < Wire.HEADER_LENGTH + 2) {
            throw PgProtocolException.violation("invalid " + (char) Wire.frameType(frame) + " message");
        }
        return frame.getByte(body(frame));
    }

    /** The statement or portal name of a Describe or Close ("" for the unnamed one). */
    public static String targetName(ByteBuf frame) {
        int start = body(frame) + 1;
        return text(frame, start, nul(frame, start, (char) Wire.frameType(frame) + ""));
    }

    /** The portal a Bind creates ("" for the unnamed portal). */
    public static String bindPortal(ByteBuf frame) {
        int start = body(frame);
        return text(frame, start, nul(frame, start, "Bind"));
    }

    /** The portal an Execute runs ("" for the unnamed portal). */
    public static String executePortal(ByteBuf frame) {
        int start = body(frame);
        return text(frame, start, nul(frame, start, "Execute"));
    }
}
