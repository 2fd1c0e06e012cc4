package io.pgrelay.protocol.message.frontend;

import io.netty.buffer.ByteBuf;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.FrontendMessage;

import java.util.Objects;

/**
 * The client aborts a COPY FROM STDIN; the server fails the command with this message.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-COPYFAIL">CopyFail</a>
 */
public final class CopyFail implements FrontendMessage {
    public static final byte TYPE = 'f';

    private final String message;

    public CopyFail(String message) {
        this.message = Objects.requireNonNull(message, "message");
    }

    public static CopyFail decode(ByteBuf body) {
        String message = Wire.readCString(body);
        Wire.requireFullyRead(body);
        return new CopyFail(message);
    }

    public String message() {
        return message;
    }

    @Override
    public void encode(ByteBuf out) {
        int length = Wire.beginFrame(out, TYPE);
        Wire.writeCString(out, message);
        Wire.endFrame(out, length);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CopyFail other && message.equals(other.message);
    }

    @Override
    public int hashCode() {
        return message.hashCode();
    }

    @Override
    public String toString() {
        return "CopyFail{message=" + message + '}';
    }
}
