package io.pgrelay.protocol.message.backend;

import io.netty.buffer.ByteBuf;

import java.util.Arrays;

/**
 * SASL outcome data (the SCRAM server-final-message, with the server signature).
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-AUTHENTICATIONSASLFINAL">AuthenticationSASLFinal</a>
 */
public final class AuthenticationSaslFinal implements Authentication {
    public static final int CODE = 12;

    private final byte[] data;

    public AuthenticationSaslFinal(byte[] data) {
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
        return o instanceof AuthenticationSaslFinal other && Arrays.equals(data, other.data);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "AuthenticationSaslFinal{" + data.length + " bytes}";
    }
}
