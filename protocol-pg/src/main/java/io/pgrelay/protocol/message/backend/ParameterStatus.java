package io.pgrelay.protocol.message.backend;

import io.netty.buffer.ByteBuf;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.BackendMessage;

import java.util.Objects;

/**
 * The current value of a reported run-time parameter (server_version, client_encoding,
 * TimeZone...), sent at start-up and whenever it changes.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-PARAMETERSTATUS">ParameterStatus</a>
 */
public final class ParameterStatus implements BackendMessage {
    public static final byte TYPE = 'S';

    private final String name;
    private final String value;

    public ParameterStatus(String name, String value) {
        this.name = Objects.requireNonNull(name, "name");
        this.value = Objects.requireNonNull(value, "value");
    }

    public static ParameterStatus decode(ByteBuf body) {
        String name = Wire.readCString(body);
        String value = Wire.readCString(body);
        Wire.requireFullyRead(body);
        return new ParameterStatus(name, value);
    }

    public String name() {
        return name;
    }

    public String value() {
        return value;
    }

    @Override
    public void encode(ByteBuf out) {
        int length = Wire.beginFrame(out, TYPE);
        Wire.writeCString(out, name);
        Wire.writeCString(out, value);
        Wire.endFrame(out, length);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ParameterStatus other && name.equals(other.name) && value.equals(other.value);
    }

    @Override
    public int hashCode() {
        return 31 * name.hashCode() + value.hashCode();
    }

    @Override
    public String toString() {
        return "ParameterStatus{" + name + '=' + value + '}';
    }
}
