package io.pgrelay.core.console;

import io.pgrelay.protocol.message.backend.ErrorResponse;
import io.pgrelay.protocol.message.backend.Fields;

/** A console command that fails; becomes an ERROR (the session goes on). */
final class ConsoleException extends RuntimeException {
    private final String sqlState;
    private final String detail;
    private final String hint;

    ConsoleException(String sqlState, String message, String detail, String hint) {
        super(message);
        this.sqlState = sqlState;
        this.detail = detail;
        this.hint = hint;
    }

    ConsoleException(String sqlState, String message) {
        this(sqlState, message, null, null);
    }

    String sqlState() {
        return sqlState;
    }

    ErrorResponse toErrorResponse() {
        Fields fields = Fields.of("ERROR", sqlState, getMessage());
        if (detail != null) {
            fields = fields.with(Fields.DETAIL, detail);
        }
        if (hint != null) {
            fields = fields.with(Fields.HINT, hint);
        }
        return new ErrorResponse(fields);
    }
}
