package io.pgrelay.protocol.message.backend;

import io.netty.buffer.ByteBuf;

/**
 * The server asks for the password in clear text.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-AUTHENTICATIONCLEARTEXTPASSWORD">AuthenticationCleartextPassword</a>
 */
public final class AuthenticationCleartextPassword implements Authentication {
    public static final int CODE = 3;

    public static final AuthenticationCleartextPassword INSTANCE = new AuthenticationCleartextPassword();

    private AuthenticationCleartextPassword() {
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
        return "AuthenticationCleartextPassword";
    }
}
