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
 * each passed on as a retained slice of the input (header included, no copy), or as the input
 * itself when a read is exactly one frame. The length
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
    /** Inside the decoder's own channelRead: a re-entrant read must queue behind it, not overtake. */
    private boolean decoding;

    public FrameDecoder(int maxMessageSize) {
        if (maxMessageSize < Wire.HEADER_LENGTH) {
            throw new IllegalArgumentException("maxMessageSize too small: " + maxMessageSize);
        }
        this.maxMessageSize = maxMessageSize;
    }

    /**
     * A read that is exactly one whole frame with nothing buffered before it (the usual case for a
     * client's simple Query) goes on as the read buffer itself: no slice object per frame.
     * Everything else is cumulated and split.
     */
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (!decoding && msg instanceof ByteBuf in && !failed && !internalBuffer().isReadable() && isOneFrame(in)) {
            ctx.fireChannelRead(in);
            return;
        }
        boolean outer = !decoding;
        decoding = true;
        try {
            super.channelRead(ctx, msg);
        } finally {
            if (outer) {
                decoding = false;
            }
        }
    }

    /** Whether {@code in} holds one frame, whole and of a valid length, and nothing else. */
    private boolean isOneFrame(ByteBuf in) {
        int readable = in.readableBytes();
        if (readable < Wire.HEADER_LENGTH) {
            return false;
        }
        int length = in.getInt(in.readerIndex() + 1);
        return length >= 4 && length <= maxMessageSize - 1 && readable == length + 1;
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
