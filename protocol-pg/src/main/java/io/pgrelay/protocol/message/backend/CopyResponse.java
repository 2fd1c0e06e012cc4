package io.pgrelay.protocol.message.backend;

import io.netty.buffer.ByteBuf;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.BackendMessage;

import java.util.Arrays;

/**
 * The common layout of CopyInResponse, CopyOutResponse and CopyBothResponse: the overall
 * format (0 text, 1 binary) and one format code per column.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-COPY">COPY operations</a>
 */
public abstract sealed class CopyResponse implements BackendMessage
        permits CopyInResponse, CopyOutResponse, CopyBothResponse {
    private final byte overallFormat;
    private final short[] columnFormats;

    CopyResponse(byte overallFormat, short[] columnFormats) {
        this.overallFormat = overallFormat;
        this.columnFormats = columnFormats.clone();
    }

    /** The frame's type byte. */
    public abstract byte type();

    public byte overallFormat() {
        return overallFormat;
    }

    public short[] columnFormats() {
        return columnFormats.clone();
    }

    /** Reads the per-column formats after the overall format and checks nothing follows. */
    static short[] readColumnFormats(ByteBuf body) {
        short[] formats = new short[Wire.readCount(body)];
        for (int i = 0; i < formats.length; i++) {
            formats[i] = Wire.readShort(body);
        }
        Wire.requireFullyRead(body);
        return formats;
    }

    @Override
    public void encode(ByteBuf out) {
        int length = Wire.beginFrame(out, type());
        out.writeByte(overallFormat);
        Wire.writeCount(out, columnFormats.length);
        for (short format : columnFormats) {
            out.writeShort(format);
        }
        Wire.endFrame(out, length);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CopyResponse other && type() == other.type() && overallFormat == other.overallFormat
                && Arrays.equals(columnFormats, other.columnFormats);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * type() + overallFormat) + Arrays.hashCode(columnFormats);
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "{overallFormat=" + overallFormat
                + ", columnFormats=" + Arrays.toString(columnFormats) + '}';
    }
}
