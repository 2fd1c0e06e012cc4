package io.pgrelay.protocol.message;

import io.netty.buffer.ByteBuf;

/**
 * A message the server sends to a client. Implementations are immutable values.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html">Message formats</a>
 */
public interface BackendMessage {
    /** Writes the whole frame, header included. */
    void encode(ByteBuf out);
}
