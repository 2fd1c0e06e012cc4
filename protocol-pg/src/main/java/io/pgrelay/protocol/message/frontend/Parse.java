package io.pgrelay.protocol.message.frontend;

import io.netty.buffer.ByteBuf;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.FrontendMessage;

import java.util.Arrays;
import java.util.Objects;

/**
 * Extended protocol: prepares a statement, named or unnamed ({@code ""}), with optional
 * parameter type OIDs (0 = let the server infer).
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-PARSE">Parse</a>
 */
public final class Parse implements FrontendMessage {
    public static final byte TYPE = 'P';

    private final String name;
    private final String sql;
    private final int[] parameterTypes;

    public Parse(String name, String sql, int[] parameterTypes) {
        this.name = Objects.requireNonNull(name, "name");
        this.sql = Objects.requireNonNull(sql, "sql");
        this.parameterTypes = parameterTypes.clone();
    }

    public static Parse decode(ByteBuf body) {
        String name = Wire.readCString(body);
        String sql = Wire.readCString(body);
        int[] types = new int[Wire.readCount(body)];
        for (int i = 0; i < types.length; i++) {
            types[i] = Wire.readInt(body);
        }
        Wire.requireFullyRead(body);
        return new Parse(name, sql, types);
    }

    /** Statement name; empty for the unnamed statement. */
    public String name() {
        return name;
    }

    public String sql() {
        return sql;
    }

    /** A copy of the declared parameter type OIDs. */
    public int[] parameterTypes() {
        return parameterTypes.clone();
    }

    @Override
    public void encode(ByteBuf out) {
        int length = Wire.beginFrame(out, TYPE);
        Wire.writeCString(out, name);
        Wire.writeCString(out, sql);
        Wire.writeCount(out, parameterTypes.length);
        for (int type : parameterTypes) {
            out.writeInt(type);
        }
        Wire.endFrame(out, length);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Parse other && name.equals(other.name) && sql.equals(other.sql)
                && Arrays.equals(parameterTypes, other.parameterTypes);
    }

    @Override
    public int hashCode() {
        return 31 * Objects.hash(name, sql) + Arrays.hashCode(parameterTypes);
    }

    @Override
    public String toString() {
        return "Parse{name=" + name + ", sql=" + sql + ", parameterTypes=" + Arrays.toString(parameterTypes) + '}';
    }
}
