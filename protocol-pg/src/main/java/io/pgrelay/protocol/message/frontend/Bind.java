package io.pgrelay.protocol.message.frontend;

import io.netty.buffer.ByteBuf;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.FrontendMessage;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * Extended protocol: binds parameter values to a prepared statement, creating a portal.
 * A null parameter is SQL NULL (length -1 on the wire). Routing usually needs only the
 * names, which {@link #peekStatementName} and {@link #peekPortalName} read without decoding
 * the values.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-BIND">Bind</a>
 */
public final class Bind implements FrontendMessage {
    public static final byte TYPE = 'B';

    private final String portal;
    private final String statement;
    private final short[] parameterFormats;
    private final List<byte[]> parameters;
    private final short[] resultFormats;

    public Bind(String portal, String statement, short[] parameterFormats, List<byte[]> parameters,
                short[] resultFormats) {
        this.portal = Objects.requireNonNull(portal, "portal");
        this.statement = Objects.requireNonNull(statement, "statement");
        this.parameterFormats = parameterFormats.clone();
        this.parameters = copy(parameters);
        this.resultFormats = resultFormats.clone();
    }

    public static Bind decode(ByteBuf body) {
        String portal = Wire.readCString(body);
        String statement = Wire.readCString(body);
        short[] parameterFormats = readFormats(body);
        int count = Wire.readCount(body);
        List<byte[]> parameters = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int length = Wire.readInt(body);
            parameters.add(length == -1 ? null : Wire.readBytes(body, length));
        }
        short[] resultFormats = readFormats(body);
        Wire.requireFullyRead(body);
        return new Bind(portal, statement, parameterFormats, parameters, resultFormats);
    }

    /** The portal name of a Bind body, without moving its indexes. */
    public static String peekPortalName(ByteBuf body) {
        int start = body.readerIndex();
        return body.toString(start, Wire.cStringEnd(body, start) - start, StandardCharsets.UTF_8);
    }

    /** The statement name of a Bind body, without moving its indexes. */
    public static String peekStatementName(ByteBuf body) {
        int start = Wire.cStringEnd(body, body.readerIndex()) + 1;
        return body.toString(start, Wire.cStringEnd(body, start) - start, StandardCharsets.UTF_8);
    }

    /** Portal name; empty for the unnamed portal. */
    public String portal() {
        return portal;
    }

    /** Statement name; empty for the unnamed statement. */
    public String statement() {
        return statement;
    }

    public short[] parameterFormats() {
        return parameterFormats.clone();
    }

    /** Copies of the parameter values; null entries are SQL NULL. */
    public List<byte[]> parameters() {
        return copy(parameters);
    }

    public short[] resultFormats() {
        return resultFormats.clone();
    }

    @Override
    public void encode(ByteBuf out) {
        int length = Wire.beginFrame(out, TYPE);
        Wire.writeCString(out, portal);
        Wire.writeCString(out, statement);
        writeFormats(out, parameterFormats);
        Wire.writeCount(out, parameters.size());
        for (byte[] value : parameters) {
            if (value == null) {
                out.writeInt(-1);
            } else {
                out.writeInt(value.length);
                out.writeBytes(value);
            }
        }
        writeFormats(out, resultFormats);
        Wire.endFrame(out, length);
    }

    private static short[] readFormats(ByteBuf body) {
        short[] formats = new short[Wire.readCount(body)];
        for (int i = 0; i < formats.length; i++) {
            formats[i] = Wire.readShort(body);
        }
        return formats;
    }

    private static void writeFormats(ByteBuf out, short[] formats) {
        Wire.writeCount(out, formats.length);
        for (short format : formats) {
            out.writeShort(format);
        }
    }

    private static List<byte[]> copy(List<byte[]> values) {
        List<byte[]> copy = new ArrayList<>(values.size());
        for (byte[] value : values) {
            copy.add(value == null ? null : value.clone());
        }
        return Collections.unmodifiableList(copy);
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Bind other) || !portal.equals(other.portal) || !statement.equals(other.statement)
                || !Arrays.equals(parameterFormats, other.parameterFormats)
                || !Arrays.equals(resultFormats, other.resultFormats)
                || parameters.size() != other.parameters.size()) {
            return false;
        }
        for (int i = 0; i < parameters.size(); i++) {
            if (!Arrays.equals(parameters.get(i), other.parameters.get(i))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        int hash = Objects.hash(portal, statement);
        hash = 31 * hash + Arrays.hashCode(parameterFormats);
        for (byte[] value : parameters) {
            hash = 31 * hash + Arrays.hashCode(value);
        }
        return 31 * hash + Arrays.hashCode(resultFormats);
    }

    /** Parameter values are shown by size only. */
    @Override
    public String toString() {
        StringBuilder sizes = new StringBuilder("[");
        for (byte[] value : parameters) {
            sizes.append(sizes.length() == 1 ? "" : ", ").append(value == null ? "NULL" : value.length + " bytes");
        }
        return "Bind{portal=" + portal + ", statement=" + statement
                + ", parameterFormats=" + Arrays.toString(parameterFormats)
                + ", parameters=" + sizes.append(']')
                + ", resultFormats=" + Arrays.toString(resultFormats) + '}';
    }
}
