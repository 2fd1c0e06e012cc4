package io.pgrelay.protocol.message.frontend;

import io.netty.buffer.ByteBuf;
import io.pgrelay.protocol.PgProtocolException;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.FrontendMessage;

import java.util.Arrays;
import java.util.Objects;

/**
 * First SASL message from the client: the chosen mechanism and its initial response
 * (the SCRAM client-first-message), or no response at all (length -1, null here).
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-SASLINITIALRESPONSE">SASLInitialResponse</a>
 */
public final class SaslInitialResponse implements FrontendMessage {
    public static final byte TYPE = 'p';

    private final String mechanism;
    private final byte[] data;

    public SaslInitialResponse(String mechanism, byte[] data) {
        this.mechanism = Objects.requireNonNull(mechanism, "mechanism");
        this.data = data == null ? null : data.clone();
    }

    public static SaslInitialResponse decode(ByteBuf body) {
        String mechanism = Wire.readCString(body);
        int length = Wire.readInt(body);
        if (length < -1) {
            throw PgProtocolException.violation("invalid SASL initial response length " + length);
        }
        byte[] data = length == -1 ? null : Wire.readBytes(body, length);
        Wire.requireFullyRead(body);
        return new SaslInitialResponse(mechanism, data);
    }

    public String mechanism() {
        return mechanism;
    }

    /** The initial response, or null when the client sent none. */
    public byte[] data() {
        return data == null ? null : data.clone();
    }

    @Override
    public void encode(ByteBuf out) {
        int length = Wire.beginFrame(out, TYPE);
        Wire.writeCString(out, mechanism);
        if (data == null) {
            out.writeInt(-1);
        } else {
            out.writeInt(data.length);
            out.writeBytes(data);
        }
        Wire.endFrame(out, length);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SaslInitialResponse other && mechanism.equals(other.mechanism)
                && Arrays.equals(data, other.data);
    }

    @Override
    public int hashCode() {
        return 31 * mechanism.hashCode() + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "SaslInitialResponse{mechanism=" + mechanism + ", " + (data == null ? "no data" : data.length + " bytes") + '}';
    }
}
