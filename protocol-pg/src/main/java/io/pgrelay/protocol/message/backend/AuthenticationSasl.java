package io.pgrelay.protocol.message.backend;

import io.netty.buffer.ByteBuf;
import io.pgrelay.protocol.Wire;

import java.util.ArrayList;
import java.util.List;

/**
 * The server starts SASL authentication and lists the mechanisms it accepts, in order of
 * preference (e.g. SCRAM-SHA-256-PLUS, SCRAM-SHA-256).
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-AUTHENTICATIONSASL">AuthenticationSASL</a>
 */
public final class AuthenticationSasl implements Authentication {
    public static final int CODE = 10;

    private final List<String> mechanisms;

    public AuthenticationSasl(List<String> mechanisms) {
        for (String mechanism : mechanisms) {
            if (mechanism.isEmpty()) {
                throw new IllegalArgumentException("empty SASL mechanism name");
            }
        }
        this.mechanisms = List.copyOf(mechanisms);
    }

    static AuthenticationSasl decodeMechanisms(ByteBuf rest) {
        List<String> mechanisms = new ArrayList<>();
        for (String name = Wire.readCString(rest); !name.isEmpty(); name = Wire.readCString(rest)) {
            mechanisms.add(name);
        }
        return new AuthenticationSasl(mechanisms);
    }

    @Override
    public int code() {
        return CODE;
    }

    public List<String> mechanisms() {
        return mechanisms;
    }

    @Override
    public void encode(ByteBuf out) {
        int length = Wire.beginFrame(out, TYPE);
        out.writeInt(CODE);
        for (String mechanism : mechanisms) {
            Wire.writeCString(out, mechanism);
        }
        out.writeByte(0);
        Wire.endFrame(out, length);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AuthenticationSasl other && mechanisms.equals(other.mechanisms);
    }

    @Override
    public int hashCode() {
        return mechanisms.hashCode();
    }

    @Override
    public String toString() {
        return "AuthenticationSasl{mechanisms=" + mechanisms + '}';
    }
}
