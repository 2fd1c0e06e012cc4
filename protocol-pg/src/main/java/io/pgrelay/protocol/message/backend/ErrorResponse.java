package io.pgrelay.protocol.message.backend;

import io.netty.buffer.ByteBuf;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.BackendMessage;

/**
 * An error reported by the server, or by pgrelay speaking as the server.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-ERRORRESPONSE">ErrorResponse</a>
 */
public final class ErrorResponse implements BackendMessage {
    public static final byte TYPE = 'E';

    private final Fields fields;

    public ErrorResponse(Fields fields) {
        this.fields = fields;
    }

    /** An ERROR: the statement failed, the session goes on. */
    public static ErrorResponse error(String sqlState, String message) {
        return new ErrorResponse(Fields.of("ERROR", sqlState, message));
    }

    /** A FATAL error: the server closes the connection after sending it. */
    public static ErrorResponse fatal(String sqlState, String message) {
        return new ErrorResponse(Fields.of("FATAL", sqlState, message));
    }

    public static ErrorResponse decode(ByteBuf body) {
        return new ErrorResponse(Fields.decode(body));
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

    public boolean isFatal() {
        String severity = severity();
        return "FATAL".equals(severity) || "PANIC".equals(severity);
    }

    @Override
    public void encode(ByteBuf out) {
        int length = Wire.beginFrame(out, TYPE);
        fields.encodeBody(out);
        Wire.endFrame(out, length);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ErrorResponse other && fields.equals(other.fields);
    }

    @Override
    public int hashCode() {
        return fields.hashCode();
    }

    @Override
    public String toString() {
        return "ErrorResponse{" + fields + '}';
    }
}
