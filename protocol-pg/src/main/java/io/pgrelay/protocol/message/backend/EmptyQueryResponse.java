package io.pgrelay.protocol.message.backend;

import io.netty.buffer.ByteBuf;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.BackendMessage;

/**
 * Replaces CommandComplete when the query string was empty.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-EMPTYQUERYRESPONSE">EmptyQueryResponse</a>
 */
public final class EmptyQueryResponse implements BackendMessage {
    public static final byte TYPE = 'I';

    public static final EmptyQueryResponse INSTANCE = new EmptyQueryResponse();

    private EmptyQueryResponse() {
    }

    public static EmptyQueryResponse decode(ByteBuf body) {
        Wire.requireFullyRead(body);
        return INSTANCE;
    }

    @Override
    public void encode(ByteBuf out) {
        out.writeByte(TYPE);
        out.writeInt(4);
    }

    @Override
    public String toString() {
        return "EmptyQueryResponse";
    }
}
