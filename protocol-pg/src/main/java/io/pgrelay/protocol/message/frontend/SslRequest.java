package io.pgrelay.protocol.message.frontend;

import io.netty.buffer.ByteBuf;
import io.pgrelay.protocol.PgProtocolException;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.FrontendMessage;

/**
 * The client asks to switch to TLS before the StartupMessage; answered with a single
 * {@code 'S'} or {@code 'N'} byte.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-SSLREQUEST">SSLRequest</a>
 */
public final class SslRequest implements FrontendMessage {
    public static final int CODE = 80877103;

    public static final SslRequest INSTANCE = new SslRequest();

    private SslRequest() {
    }

    /** Decodes the body after the Int32 length, starting at the request code. */
    public static SslRequest decode(ByteBuf body) {
        if (Wire.readInt(body) != CODE) {
            throw PgProtocolException.violation("invalid SSL request code");
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
        return "SslRequest";
    }
}
