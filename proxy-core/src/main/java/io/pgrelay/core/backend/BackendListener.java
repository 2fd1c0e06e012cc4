package io.pgrelay.core.backend;

import io.netty.buffer.ByteBuf;
import io.pgrelay.protocol.message.backend.ReadyForQuery.TransactionStatus;

/**
 * The client session a backend connection is attached to. Every call happens on the
 * event loop both channels share.
 */
public interface BackendListener {
    /** Bytes for the client, in order. The listener owns (must release or write) them. */
    void onBackendData(BackendConnection backend, ByteBuf bytes);

    /** A ParameterStatus passed on to the client: the client now sees this value. */
    default void onBackendParameter(BackendConnection backend, String name, String value) {
    }

    /** A read burst from the backend ended: the moment to flush toward the client. */
    void onBackendReadComplete(BackendConnection backend);

    /**
     * A ReadyForQuery answering one of the client's Query/Sync/FunctionCall messages was
     * passed on. {@code idle} tells whether nothing else is outstanding on the backend.
     */
    void onBackendReady(BackendConnection backend, TransactionStatus status, boolean idle);

    /**
     * A request sent with {@link BackendConnection#holdUntilResult()} failed with an error
     * only a standby raises, before anything reached the client; the backend is idle again
     * and the request can be run on the primary.
     */
    default void onBackendRetry(BackendConnection backend) {
    }

    /** The backend can take more writes again (or cannot); for backpressure on the client. */
    void onBackendWritabilityChanged(BackendConnection backend, boolean writable);

    /**
     * The backend connection is gone. {@code error} is the server's own last FATAL error
     * if it sent one (already passed to the client when a request was outstanding), else null.
     */
    void onBackendClosed(BackendConnection backend, String reason);
}
