package io.pgrelay.protocol.message.frontend;

import io.netty.buffer.ByteBuf;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.FrontendMessage;

/**
 * Extended protocol: asks the server to send what it has produced so far, without ending the batch.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-FLUSH">Flush</a>
 */
public final class Flush implements FrontendMessage {
    public static final byte TYPE = 'H';

    public static final Flush INSTANCE = new Flush();

    private Flush() {
    }

    public static Flush decode(ByteBuf body) {
        Wire.requireFullyRead(body);
        return INSTANCE;
    }

    @Override
    public void encode(ByteBuf out) {
        out.writeByte(TYPE);
        out.writeInt(4);
    }

    @Override
    public String toString() {
        return "Flush";
    }
}
