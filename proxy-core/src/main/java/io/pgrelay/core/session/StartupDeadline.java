package io.pgrelay.core.session;

import io.netty.channel.Channel;
import io.netty.util.concurrent.ScheduledFuture;
import io.pgrelay.protocol.SqlState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The time a new client has, from accept, to send its startup packet and authenticate
 * ({@code limits.client-startup-timeout}), so that clients which connect and stall (slow-loris)
 * cannot hold connection slots. As the server does: a client still in its startup packet is
 * closed silently, one in the authentication exchange gets FATAL 57014 "canceling
 * authentication due to timeout". Confined to the channel's event loop.
 */
final class StartupDeadline {
    private static final Logger log = LoggerFactory.getLogger("io.pgrelay.client");

    private final Channel channel;
    private final ScheduledFuture<?> timer;
    private boolean authenticating;

    private StartupDeadline(Channel channel, Duration timeout) {
        this.channel = channel;
        this.timer = channel.eventLoop().schedule(this::expired, timeout.toNanos(), TimeUnit.NANOSECONDS);
        channel.closeFuture().addListener(f -> timer.cancel(false));
    }

    static StartupDeadline start(Channel channel, Duration timeout) {
        return new StartupDeadline(channel, timeout);
    }

    /** The startup packet arrived: from now on the client is told why it is closed. */
    void authenticating() {
        authenticating = true;
    }

    /** The client authenticated in time. */
    void met() {
        timer.cancel(false);
    }

    private void expired() {
        if (!channel.isActive()) {
            return;
        }
        if (authenticating) {
            ClientErrors.fatal(channel, SqlState.QUERY_CANCELED, "canceling authentication due to timeout");
        } else {
            log.info("client {}: closed, no startup packet within limits.client-startup-timeout",
                    ClientErrors.remote(channel));
            channel.close();
        }
    }
}
