package io.pgrelay.protocol.message.backend;

import io.netty.buffer.ByteBuf;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.BackendMessage;

import java.util.Arrays;

/**
 * Extended protocol: the parameter type OIDs of a described statement.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-PARAMETERDESCRIPTION">ParameterDescription</a>
 */
public final class ParameterDescription implements BackendMessage {
    public static final byte TYPE = 't';

    private final int[] typeOids;

    public ParameterDescription(int[] typeOids) {
        this.typeOids = typeOids.clone();
    }

    public static ParameterDescription decode(ByteBuf body) {
        int[] typeOids = new int[Wire.readCount(body)];
        for (int i = 0; i < typeOids.length; i++) {
            typeOids[i] = Wire.readInt(body);
        }
        Wire.requireFullyRead(body);
        return new ParameterDescription(typeOids);
    }

    public int[] typeOids() {
        return typeOids.clone();
    }

    @Override
    public void encode(ByteBuf out) {
        int length = Wire.beginFrame(out, TYPE);
        Wire.writeCount(out, typeOids.length);
        for (int oid : typeOids) {
            out.writeInt(oid);
        }
        Wire.endFrame(out, length);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ParameterDescription other && Arrays.equals(typeOids, other.typeOids);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(typeOids);
    }

    @Override
    public String toString() {
        return "ParameterDescription{typeOids=" + Arrays.toString(typeOids) + '}';
    }
}
