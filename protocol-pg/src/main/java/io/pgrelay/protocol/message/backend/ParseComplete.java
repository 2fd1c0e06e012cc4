package io.pgrelay.protocol.message.backend;

import io.netty.buffer.ByteBuf;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.BackendMessage;

/**
 * Extended protocol: a Parse succeeded.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-PARSECOMPLETE">ParseComplete</a>
 */
public final class ParseComplete implements BackendMessage {
    public static final byte TYPE = '1';

    public static final ParseComplete INSTANCE = new ParseComplete();

    private ParseComplete() {
    }

    public static ParseComplete decode(ByteBuf body) {
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
        return "ParseComplete";
    }
}
