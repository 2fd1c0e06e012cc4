package io.pgrelay.protocol.message.frontend;

import io.netty.buffer.ByteBuf;
import io.pgrelay.protocol.PgProtocolException;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.FrontendMessage;

/**
 * The client asks for GSSAPI transport encryption before the StartupMessage; answered with
 * a single {@code 'G'} or {@code 'N'} byte.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-GSSENCREQUEST">GSSENCRequest</a>
 */
public final class GssEncRequest implements FrontendMessage {
    public static final int CODE = 80877104;

    public static final GssEncRequest INSTANCE = new GssEncRequest();

    private GssEncRequest() {
    }

    /** Decodes the body after the Int32 length, starting at the request code. */
    public static GssEncRequest decode(ByteBuf body) {
        if (Wire.readInt(body) != CODE) {
            throw PgProtocolException.violation("invalid GSSAPI encryption request code");
        }
        Wire.requireFullyRead(body);
        return INSTANCE;
    }

    @Override
    public void encode(ByteBuf out) {
        out.writeInt(8);
        out.writeInt(CODE);
    }

    @Override
    public String toString() {
        return "GssEncRequest";
    }
}
