package io.pgrelay.core.backend;

import io.pgrelay.protocol.SqlState;

/** No backend connection became free within the pool's acquire timeout. */
public final class PoolExhaustedException extends BackendStartupException {
    private static final long serialVersionUID = 1L;

    PoolExhaustedException(PoolKey key, int maxSize, long waitedMillis) {
        super(io.pgrelay.protocol.message.backend.ErrorResponse.error(SqlState.TOO_MANY_CONNECTIONS,
                "no backend connection for " + key + " became free within " + waitedMillis + " ms (pool.max-size "
                        + maxSize + ")"));
    }
}
