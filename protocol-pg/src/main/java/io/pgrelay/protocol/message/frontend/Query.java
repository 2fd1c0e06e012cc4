package io.pgrelay.protocol.message.frontend;

import io.netty.buffer.ByteBuf;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.FrontendMessage;

import java.util.Objects;

/**
 * Simple-protocol query: one string that may hold several statements.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-QUERY">Query</a>
 */
public final class Query implements FrontendMessage {
    public static final byte TYPE = 'Q';

    private final String sql;

    public Query(String sql) {
        this.sql = Objects.requireNonNull(sql, "sql");
    }

    /** Decodes the body (the bytes after the frame header). */
    public static Query decode(ByteBuf body) {
        String sql = Wire.readCString(body);
        Wire.requireFullyRead(body);
        return new Query(sql);
    }

    public String sql() {
        return sql;
    }

    @Override
    public void encode(ByteBuf out) {
        int length = Wire.beginFrame(out, TYPE);
        Wire.writeCString(out, sql);
        Wire.endFrame(out, length);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Query other && sql.equals(other.sql);
    }

    @Override
    public int hashCode() {
        return sql.hashCode();
    }

    @Override
    public String toString() {
        return "Query{sql=" + sql + '}';
    }
}
