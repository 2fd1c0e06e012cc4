package io.pgrelay.protocol.message.backend;

import io.netty.buffer.ByteBuf;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.BackendMessage;

/**
 * The key a client needs to cancel queries in this session. Protocol 3.0 keys only (4-byte
 * secret).
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-BACKENDKEYDATA">BackendKeyData</a>
 */
public final class BackendKeyData implements BackendMessage {
    public static final byte TYPE = 'K';

    private final int processId;
    private final int secretKey;

    public BackendKeyData(int processId, int secretKey) {
        this.processId = processId;
        this.secretKey = secretKey;
    }

    public static BackendKeyData decode(ByteBuf body) {
        int processId = Wire.readInt(body);
        int secretKey = Wire.readInt(body);
        Wire.requireFullyRead(body);
        return new BackendKeyData(processId, secretKey);
    }

    public int processId() {
        return processId;
    }

    public int secretKey() {
        return secretKey;
    }

    @Override
    public void encode(ByteBuf out) {
        out.writeByte(TYPE);
        out.writeInt(12);
        out.writeInt(processId);
        out.writeInt(secretKey);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BackendKeyData other && processId == other.processId && secretKey == other.secretKey;
    }

    @Override
    public int hashCode() {
        return 31 * processId + secretKey;
    }

    /** The secret key is left out: it authorizes cancels. */
    @Override
    public String toString() {
        return "BackendKeyData{processId=" + processId + '}';
    }
}
