package io.pgrelay.protocol.message.frontend;

import io.netty.buffer.ByteBuf;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.FrontendMessage;

/**
 * Extended protocol: ends a batch. The server answers ReadyForQuery, after committing or
 * rolling back an implicit transaction and leaving error-skip mode.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-SYNC">Sync</a>
 */
public final class Sync implements FrontendMessage {
    public static final byte TYPE = 'S';

    public static final Sync INSTANCE = new Sync();

    private Sync() {
    }

    public static Sync decode(ByteBuf body) {
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
        return "Sync";
    }
}
