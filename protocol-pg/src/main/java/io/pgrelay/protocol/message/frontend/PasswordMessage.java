package io.pgrelay.protocol.message.frontend;

import io.netty.buffer.ByteBuf;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.FrontendMessage;

import java.util.Objects;

/**
 * A cleartext or MD5-hashed password, answering AuthenticationCleartextPassword or
 * AuthenticationMD5Password. Type {@code 'p'} is shared with the SASL messages; only the
 * authentication exchange in progress tells which one to decode.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-PASSWORDMESSAGE">PasswordMessage</a>
 */
public final class PasswordMessage implements FrontendMessage {
    public static final byte TYPE = 'p';

    private final String password;

    public PasswordMessage(String password) {
        this.password = Objects.requireNonNull(password, "password");
    }

    public static PasswordMessage decode(ByteBuf body) {
        String password = Wire.readCString(body);
        Wire.requireFullyRead(body);
        return new PasswordMessage(password);
    }

    public String password() {
        return password;
    }

    @Override
    public void encode(ByteBuf out) {
        int length = Wire.beginFrame(out, TYPE);
        Wire.writeCString(out, password);
        Wire.endFrame(out, length);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PasswordMessage other && password.equals(other.password);
    }

    @Override
    public int hashCode() {
        return password.hashCode();
    }

    /** Never shows the password. */
    @Override
    public String toString() {
        return "PasswordMessage{***}";
    }
}
