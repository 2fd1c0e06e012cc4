package io.pgrelay.core.session;

import io.netty.channel.Channel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.ChannelGroupFuture;
import io.pgrelay.protocol.SqlState;
import io.pgrelay.protocol.message.backend.ErrorResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Ends every client connection when the proxy stops, the way PostgreSQL's "smart" then "fast"
 * shutdown does: a session between transactions (and any connection not logged in yet) gets a
 * FATAL 57P01 "terminating connection due to administrator command" at once; a session in a
 * transaction or running a statement gets it right after the ReadyForQuery that ends it; those
 * still busy when {@code shutdown-timeout} has passed get it then. The caller has stopped
 * accepting connections first.
 *
 * @see <a href="https://www.postgresql.org/docs/current/server-shutdown.html">Shutting down the server</a>
 */
public final class ClientShutdown {
    private static final Logger log = LoggerFactory.getLogger(ClientShutdown.class);
    static final String MESSAGE = "terminating connection due to administrator command";

    private final ChannelGroup clients;

    public ClientShutdown(ChannelGroup clients) {
        this.clients = clients;
    }

    /** Blocks until every client connection is closed, at most {@code timeout} plus a few seconds. */
    public void run(Duration timeout) {
        int open = clients.size();
        if (open == 0) {
            return;
        }
        log.info("shutdown: {} client connection(s); sessions end when their transaction does, at most in {} ms",
                open, timeout.toMillis());
        ChannelGroupFuture allClosed = clients.newCloseFuture();
        for (Channel channel : clients) {
            channel.eventLoop().execute(() -> atBoundary(channel));
        }
        if (allClosed.awaitUninterruptibly(timeout.toMillis())) {
            log.info("shutdown: every session ended between transactions");
            return;
        }
        log.info("shutdown: {} session(s) still busy after {} ms, ending them", clients.size(), timeout.toMillis());
        ChannelGroupFuture rest = clients.newCloseFuture();
        for (Channel channel : clients) {
            channel.eventLoop().execute(() -> now(channel));
        }
        if (!rest.awaitUninterruptibly(5, TimeUnit.SECONDS)) {
            clients.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
    }

    private static void atBoundary(Channel channel) {
        ClientSession session = channel.pipeline().get(ClientSession.class);
        if (session != null) {
            session.endAtBoundary();
        } else {
            end(channel); // logging in, or the console: nothing of theirs is under way
        }
    }

    private static void now(Channel channel) {
        ClientSession session = channel.pipeline().get(ClientSession.class);
        if (session != null) {
            session.endNow();
        } else {
            end(channel);
        }
    }

    /** FATAL 57P01, flushed, then the connection closes; its session gives its backends back on close. */
    static void end(Channel channel) {
        if (channel.isOpen()) {
            ClientErrors.sendAndClose(channel, ErrorResponse.fatal(SqlState.ADMIN_SHUTDOWN, MESSAGE));
        }
    }
}
