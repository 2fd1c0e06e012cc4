package io.pgrelay.protocol;

/**
 * Malformed or unacceptable protocol input. Carries the SQLSTATE the peer should be told,
 * so the handler that catches it can answer with a proper ErrorResponse and close.
 */
public class PgProtocolException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String sqlState;

    public PgProtocolException(String sqlState, String message) {
        super(message, null, false, false);
        this.sqlState = sqlState;
    }

    public static PgProtocolException violation(String message) {
        return new PgProtocolException(SqlState.PROTOCOL_VIOLATION, message);
    }

    public String sqlState() {
        return sqlState;
    }
}
