package io.pgrelay.protocol.message.backend;

import io.netty.buffer.ByteBuf;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.BackendMessage;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The columns of the rows that follow.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-ROWDESCRIPTION">RowDescription</a>
 */
public final class RowDescription implements BackendMessage {
    public static final byte TYPE = 'T';

    /** OID of the {@code text} type. */
    public static final int TEXT_OID = 25;

    /** OID of the {@code int8} (bigint) type, 8 bytes wide. */
    public static final int INT8_OID = 20;
    /** The OID of {@code integer}. */
    public static final int INT4_OID = 23;
    /** The OID of {@code boolean}. */
    public static final int BOOL_OID = 16;

    /**
     * One column: its name, source table OID and attribute number (0 when not a plain table
     * column), type OID, type size (negative for variable length), type modifier and format
     * code (0 text, 1 binary).
     */
    public record Field(String name, int tableOid, short columnAttr, int typeOid, short typeSize, int typeModifier,
                        short format) {
        public Field {
            Objects.requireNonNull(name, "name");
        }

        /** A text column that does not come from a table. */
        public static Field text(String name) {
            return new Field(name, 0, (short) 0, TEXT_OID, (short) -1, -1, (short) 0);
        }

        /**
         * A bigint column in text format, not from a table: clients show it as a number
         * (psql right-aligns it, pgjdbc maps it to {@code Long}).
         */
        public static Field int8(String name) {
            return new Field(name, 0, (short) 0, INT8_OID, (short) 8, -1, (short) 0);
        }

        /** An integer column in text format, not from a table. */
        public static Field int4(String name) {
            return new Field(name, 0, (short) 0, INT4_OID, (short) 4, -1, (short) 0);
        }

        /** A boolean column in text format, not from a table. */
        public static Field bool(String name) {
            return new Field(name, 0, (short) 0, BOOL_OID, (short) 1, -1, (short) 0);
        }
    }

    private final List<Field> fields;

    public RowDescription(List<Field> fields) {
        this.fields = List.copyOf(fields);
    }

    /** Text columns with these names, as pgrelay's own result sets use. */
    public static RowDescription ofText(String... names) {
        List<Field> fields = new ArrayList<>(names.length);
        for (String name : names) {
            fields.add(Field.text(name));
        }
        return new RowDescription(fields);
    }

    public static RowDescription decode(ByteBuf body) {
        int count = Wire.readCount(body);
        List<Field> fields = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            fields.add(new Field(Wire.readCString(body), Wire.readInt(body), Wire.readShort(body), Wire.readInt(body),
                    Wire.readShort(body), Wire.readInt(body), Wire.readShort(body)));
        }
        Wire.requireFullyRead(body);
        return new RowDescription(fields);
    }

    public List<Field> fields() {
        return fields;
    }

    @Override
    public void encode(ByteBuf out) {
        int length = Wire.beginFrame(out, TYPE);
        Wire.writeCount(out, fields.size());
        for (Field field : fields) {
            Wire.writeCString(out, field.name());
            out.writeInt(field.tableOid());
            out.writeShort(field.columnAttr());
            out.writeInt(field.typeOid());
            out.writeShort(field.typeSize());
            out.writeInt(field.typeModifier());
            out.writeShort(field.format());
        }
        Wire.endFrame(out, length);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RowDescription other && fields.equals(other.fields);
    }

    @Override
    public int hashCode() {
        return fields.hashCode();
    }

    @Override
    public String toString() {
        return "RowDescription{" + fields + '}';
    }
}
