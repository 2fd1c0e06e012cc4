package io.pgrelay.core.backend;

import io.pgrelay.protocol.SqlState;
import io.pgrelay.protocol.message.backend.ErrorResponse;

/**
 * A backend connection could not be established. Carries the error to show the client:
 * the server's own ErrorResponse when it sent one (wrong database, too many connections),
 * otherwise one made up by pgrelay.
 */
public class BackendStartupException extends Exception {
    private static final long serialVersionUID = 1L;

    private final transient ErrorResponse error;

    public BackendStartupException(ErrorResponse error) {
        super(error.message() + " (" + error.sqlState() + ")", null, false, false);
        this.error = error;
    }

    public static BackendStartupException of(String sqlState, String message) {
        return new BackendStartupException(ErrorResponse.fatal(sqlState, message));
    }

    public static BackendStartupException connectionFailure(String message) {
        return of(SqlState.SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION, message);
    }

    public ErrorResponse error() {
        return error;
    }
}
