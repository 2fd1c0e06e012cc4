package io.pgrelay.core.session;

import io.netty.channel.Channel;
import io.netty.handler.ssl.SslContext;
import io.pgrelay.core.config.LimitsConfig;
import io.pgrelay.core.config.TlsMode;
import io.pgrelay.core.metrics.ProxyMetrics;
import io.pgrelay.protocol.PgProtocolException;
import io.pgrelay.protocol.SqlState;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * What the startup step of a client connection needs ({@link ClientStartupHandler}): whether
 * it offers or requires TLS, the connection limit and who counts against it, the largest
 * message a client may send, and where CancelRequests go.
 */
public final class ClientAdmission {
    /**
     * TLS towards clients: the configured mode and, unless it is {@code DISABLE}, where the
     * server's context comes from; each new connection takes the current one, so a reloaded
     * certificate serves the next client.
     */
    public record Tls(TlsMode mode, Supplier<SslContext> contexts) {
        /** No TLS: SSLRequests are answered 'N'. */
        public static final Tls OFF = new Tls(TlsMode.DISABLE, (Supplier<SslContext>) null);

        public Tls {
            Objects.requireNonNull(mode, "mode");
            if (mode != TlsMode.DISABLE) {
                Objects.requireNonNull(contexts, "a TLS context for mode " + mode);
            }
        }

        /** A context that never changes. */
        public Tls(TlsMode mode, SslContext context) {
            this(mode, context == null ? null : () -> context);
        }

        SslContext context() {
            return contexts.get();
        }

        boolean offered() {
            return mode != TlsMode.DISABLE;
        }

        boolean required() {
            return mode == TlsMode.REQUIRE;
        }
    }

    private final Tls tls;
    private final int maxClients;
    private final int maxMessageBytes;
    private final CancelRegistry cancels;
    private final AtomicInteger clients;
    private final ProxyMetrics metrics;
    private final Duration startupTimeout;

    /** With the default startup timeout. */
    public ClientAdmission(Tls tls, int maxClients, int maxMessageBytes, CancelRegistry cancels,
                           AtomicInteger clients, ProxyMetrics metrics) {
        this(tls, maxClients, maxMessageBytes, cancels, clients, metrics,
                LimitsConfig.unlimited().clientStartupTimeout());
    }

    /**
     * {@code clients} counts the connections admitted and still open; the proxy exports it as a
     * gauge. {@code startupTimeout}: from accept to authenticated.
     */
    public ClientAdmission(Tls tls, int maxClients, int maxMessageBytes, CancelRegistry cancels,
                           AtomicInteger clients, ProxyMetrics metrics, Duration startupTimeout) {
        this.startupTimeout = startupTimeout;
        this.tls = tls;
        this.maxClients = maxClients;
        this.maxMessageBytes = maxMessageBytes;
        this.cancels = cancels;
        this.clients = clients;
        this.metrics = metrics;
    }

    Tls tls() {
        return tls;
    }

    Duration startupTimeout() {
        return startupTimeout;
    }

    int maxMessageBytes() {
        return maxMessageBytes;
    }

    void cancel(int processId, int secretKey) {
        cancels.cancel(processId, secretKey);
    }

    /**
     * Counts the channel against the connection limit until it closes, or refuses it (53300)
     * when the limit is reached, leaving the count as it was.
     */
    void admit(Channel channel) {
        if (clients.incrementAndGet() > maxClients) {
            clients.decrementAndGet();
            metrics.clientRefused();
            throw new PgProtocolException(SqlState.TOO_MANY_CONNECTIONS, "sorry, too many clients already");
        }
        metrics.clientAccepted();
        channel.closeFuture().addListener(f -> clients.decrementAndGet());
    }
}
