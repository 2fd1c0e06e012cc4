package io.pgrelay.protocol.message.backend;

import io.netty.buffer.ByteBuf;

import java.util.Arrays;

/**
 * An authentication request pgrelay does not implement (Kerberos V5, SCM credentials,
 * GSSAPI, SSPI, or a code unknown to it), kept whole so it can be named in an error.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-AUTHENTICATIONKERBEROSV5">Authentication messages</a>
 */
public final class AuthenticationOther implements Authentication {
    private final int code;
    private final byte[] rest;

    public AuthenticationOther(int code, byte[] rest) {
        this.code = code;
        this.rest = rest.clone();
    }

    @Override
    public int code() {
        return code;
    }

    /** The bytes after the code. */
    public byte[] rest() {
        return rest.clone();
    }

    /** A readable name for the method, for error messages. */
    public String methodName() {
        return switch (code) {
            case 2 -> "Kerberos V5";
            case 6 -> "SCM credentials";
            case 7 -> "GSSAPI";
            case 8 -> "GSSAPI continuation";
            case 9 -> "SSPI";
            default -> "unknown method " + code;
        };
    }

    @Override
    public void encode(ByteBuf out) {
        out.writeByte(TYPE);
        out.writeInt(8 + rest.length);
        out.writeInt(code);
        out.writeBytes(rest);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AuthenticationOther other && code == other.code && Arrays.equals(rest, other.rest);
    }

    @Override
    public int hashCode() {
        return 31 * code + Arrays.hashCode(rest);
    }

    @Override
    public String toString() {
        return "AuthenticationOther{" + methodName() + ", " + rest.length + " bytes}";
    }
}
