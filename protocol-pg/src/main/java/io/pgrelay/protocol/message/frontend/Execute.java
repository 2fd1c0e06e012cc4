package io.pgrelay.protocol.message.frontend;

import io.netty.buffer.ByteBuf;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.FrontendMessage;

import java.util.Objects;

/**
 * Extended protocol: runs a bound portal, returning at most {@code maxRows} rows
 * (0 = no limit; PortalSuspended when the limit is reached).
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-EXECUTE">Execute</a>
 */
public final class Execute implements FrontendMessage {
    public static final byte TYPE = 'E';

    private final String portal;
    private final int maxRows;

    public Execute(String portal, int maxRows) {
        this.portal = Objects.requireNonNull(portal, "portal");
        this.maxRows = maxRows;
    }

    public static Execute decode(ByteBuf body) {
        String portal = Wire.readCString(body);
        int maxRows = Wire.readInt(body);
        Wire.requireFullyRead(body);
        return new Execute(portal, maxRows);
    }

    /** Portal name; empty for the unnamed portal. */
    public String portal() {
        return portal;
    }

    public int maxRows() {
        return maxRows;
    }

    @Override
    public void encode(ByteBuf out) {
        int length = Wire.beginFrame(out, TYPE);
        Wire.writeCString(out, portal);
        out.writeInt(maxRows);
        Wire.endFrame(out, length);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Execute other && portal.equals(other.portal) && maxRows == other.maxRows;
    }

    @Override
    public int hashCode() {
        return 31 * portal.hashCode() + maxRows;
    }

    @Override
    public String toString() {
        return "Execute{portal=" + portal + ", maxRows=" + maxRows + '}';
    }
}
