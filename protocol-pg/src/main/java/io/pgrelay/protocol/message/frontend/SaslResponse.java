package io.pgrelay.protocol.message.frontend;

import io.netty.buffer.ByteBuf;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.FrontendMessage;

import java.util.Arrays;

/**
 * A later SASL message from the client (the SCRAM client-final-message, with its proof).
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-SASLRESPONSE">SASLResponse</a>
 */
public final class SaslResponse implements FrontendMessage {
    public static final byte TYPE = 'p';

    private final byte[] data;

    public SaslResponse(byte[] data) {
        this.data = data.clone();
    }

    public static SaslResponse decode(ByteBuf body) {
        return new SaslResponse(Wire.readRemaining(body));
    }

    public byte[] data() {
        return data.clone();
    }

    @Override
    public void encode(ByteBuf out) {
        out.writeByte(TYPE);
        out.writeInt(4 + data.length);
        out.writeBytes(data);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SaslResponse other && Arrays.equals(data, other.data);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(data);
    }

    /** The data is shown by size only: it carries the client proof. */
    @Override
    public String toString() {
        return "SaslResponse{" + data.length + " bytes}";
    }
}
