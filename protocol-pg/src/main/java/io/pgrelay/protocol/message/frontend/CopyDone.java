package io.pgrelay.protocol.message.frontend;

import io.netty.buffer.ByteBuf;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.BackendMessage;
import io.pgrelay.protocol.message.FrontendMessage;

/**
 * End of COPY data, in either direction: from the client in COPY FROM STDIN, from the
 * server in COPY TO STDOUT.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-COPYDONE">CopyDone</a>
 */
public final class CopyDone implements FrontendMessage, BackendMessage {
    public static final byte TYPE = 'c';

    public static final CopyDone INSTANCE = new CopyDone();

    private CopyDone() {
    }

    public static CopyDone decode(ByteBuf body) {
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
        return "CopyDone";
    }
}
