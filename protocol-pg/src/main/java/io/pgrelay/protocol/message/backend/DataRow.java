package io.pgrelay.protocol.message.backend;

import io.netty.buffer.ByteBuf;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.BackendMessage;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * One result row; a null value is SQL NULL (length -1 on the wire). The proxy forwards rows
 * as raw frames; this type is for the result sets pgrelay builds itself.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-DATAROW">DataRow</a>
 */
public final class DataRow implements BackendMessage {
    public static final byte TYPE = 'D';

    private final List<byte[]> values;

    public DataRow(List<byte[]> values) {
        this.values = copy(values);
    }

    /** A row of text values encoded as UTF-8; null entries are SQL NULL. */
    public static DataRow ofText(String... values) {
        List<byte[]> encoded = new ArrayList<>(values.length);
        for (String value : values) {
            encoded.add(value == null ? null : value.getBytes(StandardCharsets.UTF_8));
        }
        return new DataRow(encoded);
    }

    public static DataRow decode(ByteBuf body) {
        int count = Wire.readCount(body);
        List<byte[]> values = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int length = Wire.readInt(body);
            values.add(length == -1 ? null : Wire.readBytes(body, length));
        }
        Wire.requireFullyRead(body);
        return new DataRow(values);
    }

    /** Copies of the column values; null entries are SQL NULL. */
    public List<byte[]> values() {
        return copy(values);
    }

    public int size() {
        return values.size();
    }

    /** Column {@code index} decoded as UTF-8 text, or null for SQL NULL. */
    public String text(int index) {
        byte[] value = values.get(index);
        return value == null ? null : new String(value, StandardCharsets.UTF_8);
    }

    /** Every column decoded as UTF-8 text, null for SQL NULL; unmodifiable. */
    public List<String> textValues() {
        List<String> texts = new ArrayList<>(values.size());
        for (int i = 0; i < values.size(); i++) {
            texts.add(text(i));
        }
        return Collections.unmodifiableList(texts);
    }

    @Override
    public void encode(ByteBuf out) {
        int length = Wire.beginFrame(out, TYPE);
        Wire.writeCount(out, values.size());
        for (byte[] value : values) {
            if (value == null) {
                out.writeInt(-1);
            } else {
                out.writeInt(value.length);
                out.writeBytes(value);
            }
        }
        Wire.endFrame(out, length);
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
        if (!(o instanceof DataRow other) || values.size() != other.values.size()) {
            return false;
        }
        for (int i = 0; i < values.size(); i++) {
            if (!Arrays.equals(values.get(i), other.values.get(i))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        int hash = 1;
        for (byte[] value : values) {
            hash = 31 * hash + Arrays.hashCode(value);
        }
        return hash;
    }

    /** Values are shown by size only. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("DataRow{");
        for (int i = 0; i < values.size(); i++) {
            byte[] value = values.get(i);
            sb.append(i == 0 ? "" : ", ").append(value == null ? "NULL" : value.length + " bytes");
        }
        return sb.append('}').toString();
    }
}
