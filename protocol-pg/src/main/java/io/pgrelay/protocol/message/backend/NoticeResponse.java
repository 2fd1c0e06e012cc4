package io.pgrelay.protocol.message.backend;

import io.netty.buffer.ByteBuf;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.BackendMessage;

import java.util.Objects;

/**
 * A notice or warning from the server, or from pgrelay speaking as the server; same fields
 * as ErrorResponse, but the command goes on.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-NOTICERESPONSE">NoticeResponse</a>
 */
public final class NoticeResponse implements BackendMessage {
    public static final byte TYPE = 'N';

    private final Fields fields;

    public NoticeResponse(Fields fields) {
        this.fields = Objects.requireNonNull(fields, "fields");
    }

    public static NoticeResponse notice(String sqlState, String message) {
        return new NoticeResponse(Fields.of("NOTICE", sqlState, message));
    }

    public static NoticeResponse warning(String sqlState, String message) {
        return new NoticeResponse(Fields.of("WARNING", sqlState, message));
    }

    public static NoticeResponse decode(ByteBuf body) {
        return new NoticeResponse(Fields.decode(body));
    }

    public Fields fields() {
        return fields;
    }

    public String sqlState() {
        return fields.code();
    }

    public String message() {
        return fields.message();
    }

    public String severity() {
        return fields.severity();
    }

    @Override
    public void encode(ByteBuf out) {
        int length = Wire.beginFrame(out, TYPE);
        fields.encodeBody(out);
        Wire.endFrame(out, length);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NoticeResponse other && fields.equals(other.fields);
    }

    @Override
    public int hashCode() {
        return fields.hashCode();
    }

    @Override
    public String toString() {
        return "NoticeResponse{" + fields + '}';
    }
}
