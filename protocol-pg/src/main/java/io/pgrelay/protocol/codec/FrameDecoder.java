package io.pgrelay.protocol.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.pgrelay.protocol.PgProtocolException;
import io.pgrelay.protocol.SqlState;
import io.pgrelay.protocol.Wire;

import java.util.List;

/**
 * Splits a stream of typed messages ({@code type:1 length:4 body}) into whole frames,
 * each passed on as a retained slice of the input (header included, no copy). The length
 * is checked against the maximum before anything is buffered, so an oversize or
 * negative length fails fast with 08P01 instead of growing memory. After such a failure
 * the rest of the input is discarded: the stream cannot be re-synchronized, and the
 * violation is reported once rather than again on every read and when the channel closes.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-overview.html#PROTOCOL-MESSAGE-CONCEPTS">Messaging overview</a>
 */
public final class FrameDecoder extends ByteToMessageDecoder {
    private final int maxMessageSize;
    private boolean failed;

    public FrameDecoder(int maxMessageSize) {
        if (maxMessageSize < Wire.HEADER_LENGTH) {
            throw new IllegalArgumentException("maxMessageSize too small: " + maxMessageSize);
        }
        this.maxMessageSize = maxMessageSize;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        while (in.readableBytes() >= Wire.HEADER_LENGTH) {
            int start = in.readerIndex();
            int length = in.getInt(start + 1);
            try {
                checkLength(in.getByte(start), length, maxMessageSize);
            } catch (PgProtocolException e) {
                failed = true;
                in.skipBytes(in.readableBytes());
                throw e;
            }
            if (in.readableBytes() < length + 1) {
                return;
            }
            out.add(in.readRetainedSlice(length + 1));
        }
    }

    /** Validates a frame's declared length; shared with {@link FrameScanner}. */
    static void checkLength(byte type, int length, int maxMessageSize) {
        if (length < 4) {
            throw PgProtocolException.violation("invalid message length " + length + " for message type 0x"
                    + Integer.toHexString(type & 0xff));
        }
        if (length > maxMessageSize - 1) {
            throw new PgProtocolException(SqlState.PROTOCOL_VIOLATION,
                    "message of type 0x" + Integer.toHexString(type & 0xff) + " is " + (length + 1)
                            + " bytes, more than the limit of " + maxMessageSize + " bytes");
        }
    }
}
