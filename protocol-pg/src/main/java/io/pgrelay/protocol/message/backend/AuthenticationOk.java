package io.pgrelay.protocol.message.backend;

import io.netty.buffer.ByteBuf;

/**
 * Authentication succeeded; the server goes on with ParameterStatus, BackendKeyData and
 * ReadyForQuery.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-AUTHENTICATIONOK">AuthenticationOk</a>
 */
public final class AuthenticationOk implements Authentication {
    public static final int CODE = 0;

    public static final AuthenticationOk INSTANCE = new AuthenticationOk();

    private AuthenticationOk() {
    }

    @Override
    public int code() {
        return CODE;
    }

    @Override
    public void encode(ByteBuf out) {
        out.writeByte(TYPE);
        out.writeInt(8);
        out.writeInt(CODE);
    }

    @Override
    public String toString() {
        return "AuthenticationOk";
    }
}
