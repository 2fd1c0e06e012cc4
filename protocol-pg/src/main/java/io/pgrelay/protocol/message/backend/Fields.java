package io.pgrelay.protocol.message.backend;

import io.netty.buffer.ByteBuf;
import io.pgrelay.protocol.PgProtocolException;
import io.pgrelay.protocol.Wire;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The field list shared by ErrorResponse and NoticeResponse: (code byte, string) pairs
 * ended by a zero byte. Field order is kept so a re-encoded message is byte-identical.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-error-fields.html">Error and notice fields</a>
 */
public final class Fields {
    public static final byte SEVERITY = 'S';
    public static final byte SEVERITY_NON_LOCALIZED = 'V';
    public static final byte CODE = 'C';
    public static final byte MESSAGE = 'M';
    public static final byte DETAIL = 'D';
    public static final byte HINT = 'H';
    public static final byte POSITION = 'P';
    public static final byte WHERE = 'W';

    private final Map<Byte, String> values;

    private Fields(Map<Byte, String> values) {
        this.values = Collections.unmodifiableMap(values);
    }

    public static Fields of(String severity, String sqlState, String message) {
        Map<Byte, String> values = new LinkedHashMap<>();
        values.put(SEVERITY, severity);
        values.put(SEVERITY_NON_LOCALIZED, severity);
        values.put(CODE, sqlState);
        values.put(MESSAGE, message);
        return new Fields(values);
    }

    public Fields with(byte code, String value) {
        Map<Byte, String> copy = new LinkedHashMap<>(values);
        copy.put(code, value);
        return new Fields(copy);
    }

    static Fields decode(ByteBuf body) {
        Map<Byte, String> values = new LinkedHashMap<>();
        while (true) {
            byte code = Wire.readByte(body);
            if (code == 0) {
                break;
            }
            values.put(code, Wire.readCString(body));
        }
        if (body.isReadable()) {
            throw PgProtocolException.violation("invalid message format");
        }
        return new Fields(values);
    }

    void encodeBody(ByteBuf out) {
        for (Map.Entry<Byte, String> field : values.entrySet()) {
            out.writeByte(field.getKey());
            Wire.writeCString(out, field.getValue());
        }
        out.writeByte(0);
    }

    public String get(byte code) {
        return values.get(code);
    }

    /** The non-localized severity when present (9.6+), otherwise the localized one. */
    public String severity() {
        String severity = values.get(SEVERITY_NON_LOCALIZED);
        return severity != null ? severity : values.get(SEVERITY);
    }

    public String code() {
        return values.get(CODE);
    }

    public String message() {
        return values.get(MESSAGE);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Fields other && values.equals(other.values);
    }

    @Override
    public int hashCode() {
        return values.hashCode();
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        values.forEach((code, value) -> sb.append(sb.length() == 0 ? "" : ", ").append((char) code.byteValue()).append('=').append(value));
        return sb.toString();
    }
}
