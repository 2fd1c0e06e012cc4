package io.pgrelay.protocol.message;

import io.netty.buffer.ByteBuf;

/**
 * A message a client sends to the server. Implementations are immutable values.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html">Message formats</a>
 */
public interface FrontendMessage {
    /** Writes the whole frame, header included. */
    void encode(ByteBuf out);
}
