package io.pgrelay.protocol.message.frontend;

import io.netty.buffer.ByteBuf;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.BackendMessage;
import io.pgrelay.protocol.message.FrontendMessage;

import java.util.Arrays;

/**
 * A chunk of COPY data, in either direction. The proxy forwards these as raw frames; this
 * type is for the few messages pgrelay writes itself.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-COPYDATA">CopyData</a>
 */
public final class CopyData implements FrontendMessage, BackendMessage {
    public static final byte TYPE = 'd';

    private final byte[] data;

    public CopyData(byte[] data) {
        this.data = data.clone();
    }

    public static CopyData decode(ByteBuf body) {
        return new CopyData(Wire.readRemaining(body));
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
        return o instanceof CopyData other && Arrays.equals(data, other.data);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "CopyData{" + data.length + " bytes}";
    }
}
