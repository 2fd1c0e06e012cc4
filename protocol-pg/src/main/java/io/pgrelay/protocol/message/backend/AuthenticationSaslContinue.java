package io.pgrelay.protocol.message.backend;

import io.netty.buffer.ByteBuf;

import java.util.Arrays;

/**
 * A SASL challenge (the SCRAM server-first-message).
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-AUTHENTICATIONSASLCONTINUE">AuthenticationSASLContinue</a>
 */
public final class AuthenticationSaslContinue implements Authentication {
    public static final int CODE = 11;

    private final byte[] data;

    public AuthenticationSaslContinue(byte[] data) {
        this.data = data.clone();
    }

    @Override
    public int code() {
        return CODE;
    }

    public byte[] data() {
        return data.clone();
    }

    @Override
    public void encode(ByteBuf out) {
        out.writeByte(TYPE);
        out.writeInt(8 + data.length);
        out.writeInt(CODE);
        out.writeBytes(data);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AuthenticationSaslContinue other && Arrays.equals(data, other.data);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "AuthenticationSaslContinue{" + data.length + " bytes}";
    }
}
