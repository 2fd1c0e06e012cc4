package io.pgrelay.protocol.message.backend;

import io.netty.buffer.ByteBuf;
import io.pgrelay.protocol.PgProtocolException;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.BackendMessage;

import java.util.ArrayList;
import java.util.List;

/**
 * The server does not support the requested minor protocol version or some
 * {@code _pq_.} startup options; names the newest minor version it does support and the
 * options it did not recognize.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-NEGOTIATEPROTOCOLVERSION">NegotiateProtocolVersion</a>
 */
public final class NegotiateProtocolVersion implements BackendMessage {
    public static final byte TYPE = 'v';

    private final int newestMinorVersion;
    private final List<String> unrecognizedOptions;

    public NegotiateProtocolVersion(int newestMinorVersion, List<String> unrecognizedOptions) {
        this.newestMinorVersion = newestMinorVersion;
        this.unrecognizedOptions = List.copyOf(unrecognizedOptions);
    }

    public static NegotiateProtocolVersion decode(ByteBuf body) {
        int newestMinorVersion = Wire.readInt(body);
        int count = Wire.readInt(body);
        if (count < 0) {
            throw PgProtocolException.violation("invalid option count " + count);
        }
        List<String> options = new ArrayList<>(Math.min(count, body.readableBytes()));
        for (int i = 0; i < count; i++) {
            options.add(Wire.readCString(body));
        }
        Wire.requireFullyRead(body);
        return new NegotiateProtocolVersion(newestMinorVersion, options);
    }

    public int newestMinorVersion() {
        return newestMinorVersion;
    }

    public List<String> unrecognizedOptions() {
        return unrecognizedOptions;
    }

    @Override
    public void encode(ByteBuf out) {
        int length = Wire.beginFrame(out, TYPE);
        out.writeInt(newestMinorVersion);
        out.writeInt(unrecognizedOptions.size());
        for (String option : unrecognizedOptions) {
            Wire.writeCString(out, option);
        }
        Wire.endFrame(out, length);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NegotiateProtocolVersion other && newestMinorVersion == other.newestMinorVersion
                && unrecognizedOptions.equals(other.unrecognizedOptions);
    }

    @Override
    public int hashCode() {
        return 31 * newestMinorVersion + unrecognizedOptions.hashCode();
    }

    @Override
    public String toString() {
        return "NegotiateProtocolVersion{newestMinorVersion=" + newestMinorVersion
                + ", unrecognizedOptions=" + unrecognizedOptions + '}';
    }
}
