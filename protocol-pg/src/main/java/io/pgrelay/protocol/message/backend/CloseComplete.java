package io.pgrelay.protocol.message.backend;

import io.netty.buffer.ByteBuf;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.BackendMessage;

/**
 * Extended protocol: a Close succeeded.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-CLOSECOMPLETE">CloseComplete</a>
 */
public final class CloseComplete implements BackendMessage {
    public static final byte TYPE = '3';

    public static final CloseComplete INSTANCE = new CloseComplete();

    private CloseComplete() {
    }

    public static CloseComplete decode(ByteBuf body) {
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
        return "CloseComplete";
    }
}
