package io.pgrelay.protocol.message.backend;

import io.netty.buffer.ByteBuf;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.BackendMessage;

import java.util.Objects;

/**
 * A command finished; the tag names it and, for most DML, counts the rows
 * ({@code "INSERT 0 1"}, {@code "SELECT 5"}, {@code "BEGIN"}).
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-COMMANDCOMPLETE">CommandComplete</a>
 */
public final class CommandComplete implements BackendMessage {
    public static final byte TYPE = 'C';

    private final String tag;

    public CommandComplete(String tag) {
        this.tag = Objects.requireNonNull(tag, "tag");
    }

    public static CommandComplete decode(ByteBuf body) {
        String tag = Wire.readCString(body);
        Wire.requireFullyRead(body);
        return new CommandComplete(tag);
    }

    public String tag() {
        return tag;
    }

    @Override
    public void encode(ByteBuf out) {
        int length = Wire.beginFrame(out, TYPE);
        Wire.writeCString(out, tag);
        Wire.endFrame(out, length);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CommandComplete other && tag.equals(other.tag);
    }

    @Override
    public int hashCode() {
        return tag.hashCode();
    }

    @Override
    public String toString() {
        return "CommandComplete{tag=" + tag + '}';
    }
}
