package io.pgrelay.protocol.message.frontend;

import io.netty.buffer.ByteBuf;
import io.pgrelay.protocol.PgProtocolException;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.FrontendMessage;

import java.util.Objects;

/**
 * Extended protocol: closes a prepared statement ({@code 'S'}) or a portal ({@code 'P'});
 * closing one that does not exist is not an error.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-CLOSE">Close</a>
 */
public final class Close implements FrontendMessage {
    public static final byte TYPE = 'C';
    public static final byte KIND_STATEMENT = 'S';
    public static final byte KIND_PORTAL = 'P';

    private final byte kind;
    private final String name;

    public Close(byte kind, String name) {
        if (kind != KIND_STATEMENT && kind != KIND_PORTAL) {
            throw new IllegalArgumentException("kind must be 'S' or 'P': " + kind);
        }
        this.kind = kind;
        this.name = Objects.requireNonNull(name, "name");
    }

    public static Close statement(String name) {
        return new Close(KIND_STATEMENT, name);
    }

    public static Close portal(String name) {
        return new Close(KIND_PORTAL, name);
    }

    public static Close decode(ByteBuf body) {
        byte kind = Wire.readByte(body);
        if (kind != KIND_STATEMENT && kind != KIND_PORTAL) {
            throw PgProtocolException.violation("invalid CLOSE message subtype " + kind);
        }
        String name = Wire.readCString(body);
        Wire.requireFullyRead(body);
        return new Close(kind, name);
    }

    /** {@link #KIND_STATEMENT} or {@link #KIND_PORTAL}. */
    public byte kind() {
        return kind;
    }

    public String name() {
        return name;
    }

    @Override
    public void encode(ByteBuf out) {
        int length = Wire.beginFrame(out, TYPE);
        out.writeByte(kind);
        Wire.writeCString(out, name);
        Wire.endFrame(out, length);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Close other && kind == other.kind && name.equals(other.name);
    }

    @Override
    public int hashCode() {
        return 31 * kind + name.hashCode();
    }

    @Override
    public String toString() {
        return "Close{kind=" + (char) kind + ", name=" + name + '}';
    }
}
