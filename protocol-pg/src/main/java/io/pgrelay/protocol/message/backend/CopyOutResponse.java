package io.pgrelay.protocol.message.backend;

import io.netty.buffer.ByteBuf;
import io.pgrelay.protocol.Wire;

/**
 * COPY TO STDOUT started: CopyData follows from the server, then CopyDone.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-COPYOUTRESPONSE">CopyOutResponse</a>
 */
public final class CopyOutResponse extends CopyResponse {
    public static final byte TYPE = 'H';

    public CopyOutResponse(byte overallFormat, short[] columnFormats) {
        super(overallFormat, columnFormats);
    }

    public static CopyOutResponse decode(ByteBuf body) {
        byte overallFormat = Wire.readByte(body);
        return new CopyOutResponse(overallFormat, readColumnFormats(body));
    }

    @Override
    public byte type() {
        return TYPE;
    }
}
