package io.pgrelay.protocol.message.backend;

import io.netty.buffer.ByteBuf;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.BackendMessage;

/**
 * Extended protocol: a Bind succeeded.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-BINDCOMPLETE">BindComplete</a>
 */
public final class BindComplete implements BackendMessage {
    public static final byte TYPE = '2';

    public static final BindComplete INSTANCE = new BindComplete();

    private BindComplete() {
    }

    public static BindComplete decode(ByteBuf body) {
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
        return "BindComplete";
    }
}
