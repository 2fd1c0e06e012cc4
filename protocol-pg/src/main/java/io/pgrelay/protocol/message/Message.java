package io.pgrelay.protocol.message;

import io.netty.buffer.ByteBuf;

/**
 * A protocol message in either direction. Lets code that only writes messages (and the few
 * messages used both ways, such as CopyData) ignore the direction.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html">Message formats</a>
 */
public interface Message {
    /** Writes the whole frame, header included. */
    void encode(ByteBuf out);
}
