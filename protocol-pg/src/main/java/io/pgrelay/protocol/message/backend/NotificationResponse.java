package io.pgrelay.protocol.message.backend;

import io.netty.buffer.ByteBuf;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.BackendMessage;

import java.util.Objects;

/**
 * A NOTIFY delivered to a session that LISTENs on the channel; can arrive at any time, not
 * only in reply to a command.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-NOTIFICATIONRESPONSE">NotificationResponse</a>
 */
public final class NotificationResponse implements BackendMessage {
    public static final byte TYPE = 'A';

    private final int processId;
    private final String channel;
    private final String payload;

    public NotificationResponse(int processId, String channel, String payload) {
        this.processId = processId;
        this.channel = Objects.requireNonNull(channel, "channel");
        this.payload = Objects.requireNonNull(payload, "payload");
    }

    public static NotificationResponse decode(ByteBuf body) {
        int processId = Wire.readInt(body);
        String channel = Wire.readCString(body);
        String payload = Wire.readCString(body);
        Wire.requireFullyRead(body);
        return new NotificationResponse(processId, channel, payload);
    }

    /** The notifying session's process id. */
    public int processId() {
        return processId;
    }

    public String channel() {
        return channel;
    }

    public String payload() {
        return payload;
    }

    @Override
    public void encode(ByteBuf out) {
        int length = Wire.beginFrame(out, TYPE);
        out.writeInt(processId);
        Wire.writeCString(out, channel);
        Wire.writeCString(out, payload);
        Wire.endFrame(out, length);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NotificationResponse other && processId == other.processId
                && channel.equals(other.channel) && payload.equals(other.payload);
    }

    @Override
    public int hashCode() {
        return Objects.hash(processId, channel, payload);
    }

    @Override
    public String toString() {
        return "NotificationResponse{processId=" + processId + ", channel=" + channel + ", payload=" + payload + '}';
    }
}
