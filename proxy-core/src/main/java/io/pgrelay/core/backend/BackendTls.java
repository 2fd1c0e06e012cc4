package io.pgrelay.core.backend;

import io.netty.handler.ssl.SslContext;
import io.pgrelay.core.config.BackendTlsMode;

import java.util.Objects;

/**
 * What one backend connection does about TLS: the {@code backend.tls} mode and, unless it is
 * disable, the client context built from the CA, certificate and key files. A reload replaces
 * it whole; a connection takes the current one when it starts.
 */
public record BackendTls(BackendTlsMode mode, SslContext context) {
    public static final BackendTls OFF = new BackendTls(BackendTlsMode.DISABLE, null);

    public BackendTls {
        Objects.requireNonNull(mode, "mode");
        if (mode.requested()) {
            Objects.requireNonNull(context, "a TLS context for backend.tls " + mode.configName());
        }
    }
}
