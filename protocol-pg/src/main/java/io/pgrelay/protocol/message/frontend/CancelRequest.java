package io.pgrelay.protocol.message.frontend;

import io.netty.buffer.ByteBuf;
import io.pgrelay.protocol.PgProtocolException;
import io.pgrelay.protocol.message.FrontendMessage;

/**
 * Sent on a new connection to cancel the query running in another session, identified by
 * the key from its BackendKeyData. Protocol 3.0 keys only (4-byte secret).
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-CANCELREQUEST">CancelRequest</a>
 */
public final class CancelRequest implements FrontendMessage {
    public static final int CODE = 80877102;

    private static final int BODY_LENGTH = 12;

    private final int processId;
    private final int secretKey;

    public CancelRequest(int processId, int secretKey) {
        this.processId = processId;
        this.secretKey = secretKey;
    }

    /** Decodes the body after the Int32 length, starting at the request code. */
    public static CancelRequest decode(ByteBuf body) {
        if (body.readableBytes() != BODY_LENGTH) {
            throw PgProtocolException.violation("invalid length of query cancel packet");
        }
        if (body.readInt() != CODE) {
            throw PgProtocolException.violation("invalid cancel request code");
        }
        return new CancelRequest(body.readInt(), body.readInt());
    }

    public int processId() {
        return processId;
    }

    public int secretKey() {
        return secretKey;
    }

    @Override
    public void encode(ByteBuf out) {
        out.writeInt(4 + BODY_LENGTH);
        out.writeInt(CODE);
        out.writeInt(processId);
        out.writeInt(secretKey);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CancelRequest other && processId == other.processId && secretKey == other.secretKey;
    }

    @Override
    public int hashCode() {
        return 31 * processId + secretKey;
    }

    /** The secret key is left out: it authorizes cancels. */
    @Override
    public String toString() {
        return "CancelRequest{processId=" + processId + '}';
    }
}
