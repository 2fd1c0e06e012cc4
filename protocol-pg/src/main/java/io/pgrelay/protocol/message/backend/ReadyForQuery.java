package io.pgrelay.protocol.message.backend;

import io.netty.buffer.ByteBuf;
import io.pgrelay.protocol.PgProtocolException;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.BackendMessage;

/**
 * The server is ready for a new query; carries the transaction status. This status byte is
 * the only source of truth for transaction state in pgrelay.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-READYFORQUERY">ReadyForQuery</a>
 */
public final class ReadyForQuery implements BackendMessage {
    public static final byte TYPE = 'Z';

    /** Transaction status as the server reports it; bytes we do not know map to UNKNOWN. */
    public enum TransactionStatus {
        IDLE('I'), IN_TRANSACTION('T'), FAILED('E'), UNKNOWN('?');

        private final byte code;

        TransactionStatus(char code) {
            this.code = (byte) code;
        }

        public byte code() {
            return code;
        }

        public static TransactionStatus of(byte code) {
            return switch (code) {
                case 'I' -> IDLE;
                case 'T' -> IN_TRANSACTION;
                case 'E' -> FAILED;
                default -> UNKNOWN;
            };
        }
    }

    public static final ReadyForQuery IDLE = new ReadyForQuery(TransactionStatus.IDLE);
    public static final ReadyForQuery IN_TRANSACTION = new ReadyForQuery(TransactionStatus.IN_TRANSACTION);
    public static final ReadyForQuery FAILED = new ReadyForQuery(TransactionStatus.FAILED);

    private final TransactionStatus status;

    private ReadyForQuery(TransactionStatus status) {
        this.status = status;
    }

    public static ReadyForQuery of(TransactionStatus status) {
        return switch (status) {
            case IDLE -> IDLE;
            case IN_TRANSACTION -> IN_TRANSACTION;
            case FAILED -> FAILED;
            case UNKNOWN -> new ReadyForQuery(TransactionStatus.UNKNOWN);
        };
    }

    /** The status of a whole ReadyForQuery frame (header included), read in place. */
    public static TransactionStatus statusOf(ByteBuf frame) {
        if (frame.readableBytes() != Wire.HEADER_LENGTH + 1 || frame.getInt(frame.readerIndex() + 1) != 5) {
            throw PgProtocolException.violation("invalid ReadyForQuery message of " + frame.readableBytes() + " bytes");
        }
        return TransactionStatus.of(frame.getByte(frame.readerIndex() + Wire.HEADER_LENGTH));
    }

    public static ReadyForQuery decode(ByteBuf body) {
        ReadyForQuery message = of(TransactionStatus.of(Wire.readByte(body)));
        Wire.requireFullyRead(body);
        return message;
    }

    public TransactionStatus status() {
        return status;
    }

    @Override
    public void encode(ByteBuf out) {
        out.writeByte(TYPE);
        out.writeInt(5);
        out.writeByte(status.code());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ReadyForQuery other && status == other.status;
    }

    @Override
    public int hashCode() {
        return status.hashCode();
    }

    @Override
    public String toString() {
        return "ReadyForQuery{" + status + '}';
    }
}
