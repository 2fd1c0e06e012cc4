package io.pgrelay.core.backend;

import io.pgrelay.protocol.message.backend.ErrorResponse;

/** Completion of a query pgrelay runs on a backend for itself; the client never sees its results. */
@FunctionalInterface
public interface InternalQueryCallback {
    /**
     * @param error the first error the query raised, or null on success
     */
    void onComplete(BackendConnection backend, ErrorResponse error);
}
