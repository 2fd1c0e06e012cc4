package io.pgrelay.protocol.message.backend;

import io.netty.buffer.ByteBuf;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.BackendMessage;

/**
 * Extended protocol: an Execute reached its row limit; the portal can be executed again.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-PORTALSUSPENDED">PortalSuspended</a>
 */
public final class PortalSuspended implements BackendMessage {
    public static final byte TYPE = 's';

    public static final PortalSuspended INSTANCE = new PortalSuspended();

    private PortalSuspended() {
    }

    public static PortalSuspended decode(ByteBuf body) {
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
        return "PortalSuspended";
    }
}
