package io.pgrelay.protocol.message.backend;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;

import java.util.Arrays;

/**
 * The server asks for an MD5-hashed password, salted with these 4 bytes.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-AUTHENTICATIONMD5PASSWORD">AuthenticationMD5Password</a>
 */
public final class AuthenticationMd5Password implements Authentication {
    public static final int CODE = 5;

    private final byte[] salt;

    public AuthenticationMd5Password(byte[] salt) {
        if (salt.length != 4) {
            throw new IllegalArgumentException("MD5 salt must be 4 bytes, not " + salt.length);
        }
        this.salt = salt.clone();
    }

    @Override
    public int code() {
        return CODE;
    }

    public byte[] salt() {
        return salt.clone();
    }

    @Override
    public void encode(ByteBuf out) {
        out.writeByte(TYPE);
        out.writeInt(12);
        out.writeInt(CODE);
        out.writeBytes(salt);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AuthenticationMd5Password other && Arrays.equals(salt, other.salt);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(salt);
    }

    @Override
    public String toString() {
        return "AuthenticationMd5Password{salt=" + ByteBufUtil.hexDump(salt) + '}';
    }
}
