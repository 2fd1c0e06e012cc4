package io.pgrelay.core.backend;

import io.pgrelay.protocol.SqlState;
import io.pgrelay.protocol.message.backend.ErrorResponse;

/**
 * The server failed the {@code backend.tls} checks: its certificate did not verify, or it
 * refused TLS that the mode requires. A connection failure (08001) like any other, so a replica
 * is banned, but waiting for the primary does not help: the client is told at once.
 */
public final class BackendTlsRefusedException extends BackendStartupException {
    private static final long serialVersionUID = 1L;

    BackendTlsRefusedException(String message) {
        super(ErrorResponse.fatal(SqlState.SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION, message));
    }
}
