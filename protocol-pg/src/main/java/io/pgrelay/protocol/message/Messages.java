package io.pgrelay.protocol.message;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * Encodes typed messages into fresh buffers, for handlers that write a message rather than
 * forward a frame. Takes any {@link Message}, so messages used in both directions
 * (CopyData, CopyDone) need no cast.
 */
public final class Messages {
    private Messages() {
    }

    /** Allocates a buffer and encodes {@code message} into it; the caller owns the buffer. */
    public static ByteBuf encode(ByteBufAllocator alloc, Message message) {
        ByteBuf out = alloc.buffer();
        try {
            message.encode(out);
            return out;
        } catch (RuntimeException | Error e) {
            out.release();
            throw e;
        }
    }
}
