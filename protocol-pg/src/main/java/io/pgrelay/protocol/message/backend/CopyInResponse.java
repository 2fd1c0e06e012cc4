package io.pgrelay.protocol.message.backend;

import io.netty.buffer.ByteBuf;
import io.pgrelay.protocol.Wire;

/**
 * COPY FROM STDIN started: the server now expects CopyData from the client, then CopyDone
 * or CopyFail.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-COPYINRESPONSE">CopyInResponse</a>
 */
public final class CopyInResponse extends CopyResponse {
    public static final byte TYPE = 'G';

    public CopyInResponse(byte overallFormat, short[] columnFormats) {
        super(overallFormat, columnFormats);
    }

    public static CopyInResponse decode(ByteBuf body) {
        byte overallFormat = Wire.readByte(body);
        return new CopyInResponse(overallFormat, readColumnFormats(body));
    }

    @Override
    public byte type() {
        return TYPE;
    }
}
