package io.pgrelay.protocol.message.backend;

import io.netty.buffer.ByteBuf;
import io.pgrelay.protocol.Wire;

/**
 * Copy in both directions started (streaming replication only).
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-COPYBOTHRESPONSE">CopyBothResponse</a>
 */
public final class CopyBothResponse extends CopyResponse {
    public static final byte TYPE = 'W';

    public CopyBothResponse(byte overallFormat, short[] columnFormats) {
        super(overallFormat, columnFormats);
    }

    public static CopyBothResponse decode(ByteBuf body) {
        byte overallFormat = Wire.readByte(body);
        return new CopyBothResponse(overallFormat, readColumnFormats(body));
    }

    @Override
    public byte type() {
        return TYPE;
    }
}
