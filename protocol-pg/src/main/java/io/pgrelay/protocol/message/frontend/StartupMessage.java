package io.pgrelay.protocol.message.frontend;

import io.netty.buffer.ByteBuf;
import io.pgrelay.protocol.PgProtocolException;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.FrontendMessage;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The untyped packet that opens a session: protocol version and run-time parameters
 * ({@code user}, {@code database}, {@code options}, GUCs...), in the order the client sent
 * them.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-STARTUPMESSAGE">StartupMessage</a>
 */
public final class StartupMessage implements FrontendMessage {
    /** Protocol 3.0: major version in the high 16 bits, minor in the low 16. */
    public static final int PROTOCOL_3_0 = 196608;

    private final int protocolVersion;
    private final Map<String, String> parameters;

    public StartupMessage(int protocolVersion, Map<String, String> parameters) {
        this.protocolVersion = protocolVersion;
        this.parameters = Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
    }

    /** Decodes the body after the Int32 length, starting at the protocol version. */
    public static StartupMessage decode(ByteBuf body) {
        int version = Wire.readInt(body);
        Map<String, String> parameters = new LinkedHashMap<>();
        while (true) {
            String name = readString(body);
            if (name.isEmpty()) {
                break;
            }
            parameters.put(name, readString(body));
        }
        if (body.isReadable()) {
            throw layoutError();
        }
        return new StartupMessage(version, parameters);
    }

    private static String readString(ByteBuf body) {
        int start = body.readerIndex();
        int length = body.bytesBefore((byte) 0);
        if (length < 0) {
            throw layoutError();
        }
        String value = body.toString(start, length, StandardCharsets.UTF_8);
        body.readerIndex(start + length + 1);
        return value;
    }

    private static PgProtocolException layoutError() {
        return PgProtocolException.violation("invalid startup packet layout: expected terminator as last byte");
    }

    public int protocolVersion() {
        return protocolVersion;
    }

    public int majorVersion() {
        return protocolVersion >>> 16;
    }

    public int minorVersion() {
        return protocolVersion & 0xffff;
    }

    /** Unmodifiable, in the order received. */
    public Map<String, String> parameters() {
        return parameters;
    }

    /** The {@code user} parameter, or null when the client sent none. */
    public String user() {
        return parameters.get("user");
    }

    /** The {@code database} parameter; like the server, the user name when absent or empty. */
    public String database() {
        String database = parameters.get("database");
        return database == null || database.isEmpty() ? user() : database;
    }

    @Override
    public void encode(ByteBuf out) {
        int lengthIndex = out.writerIndex();
        out.writeInt(0);
        out.writeInt(protocolVersion);
        parameters.forEach((name, value) -> {
            Wire.writeCString(out, name);
            Wire.writeCString(out, value);
        });
        out.writeByte(0);
        out.setInt(lengthIndex, out.writerIndex() - lengthIndex);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StartupMessage other && protocolVersion == other.protocolVersion
                && parameters.equals(other.parameters);
    }

    @Override
    public int hashCode() {
        return Objects.hash(protocolVersion, parameters);
    }

    @Override
    public String toString() {
        return "StartupMessage{version=" + majorVersion() + "." + minorVersion() + ", parameters=" + parameters + '}';
    }
}
