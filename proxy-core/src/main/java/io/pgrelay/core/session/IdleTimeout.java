package io.pgrelay.core.session;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import io.pgrelay.core.config.LimitsConfig;
import io.pgrelay.protocol.SqlState;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Ends a session whose client sent nothing for too long while nothing of it ran: outside a
 * transaction after {@code limits.client-idle-timeout} with FATAL 57P05, inside one after
 * {@code limits.client-idle-in-transaction-timeout} with FATAL 25P03, as the server's
 * idle_session_timeout and idle_in_transaction_session_timeout do. A session that waits for a
 * result is never idle. Checked on the session's loop every quarter of the shorter timeout.
 */
final class IdleTimeout {
    /** What the timeout sees of its session. */
    interface Session {
        /** A request of the client is running or queued. */
        boolean busy();

        /** A transaction (or an extended-protocol batch) is open. */
        boolean inTransaction();

        void end(String sqlState, String message);
    }

    private final EventLoop loop;
    private final Session session;
    private final long idleNanos;
    private final long inTransactionNanos;
    private final long tickNanos;
    private long idleSinceNanos;
    private ScheduledFuture<?> tick;

    private IdleTimeout(EventLoop loop, Session session, long idleNanos, long inTransactionNanos) {
        this.loop = loop;
        this.session = session;
        this.idleNanos = idleNanos;
        this.inTransactionNanos = inTransactionNanos;
        long shorter = idleNanos == 0 ? inTransactionNanos
                : inTransactionNanos == 0 ? idleNanos : Math.min(idleNanos, inTransactionNanos);
        this.tickNanos = Math.max(TimeUnit.MILLISECONDS.toNanos(10), shorter / 4);
        this.idleSinceNanos = System.nanoTime();
    }

    /** Starts watching the session; null when neither timeout is set. */
    static IdleTimeout start(EventLoop loop, LimitsConfig limits, Session session) {
        long idle = nanos(limits.clientIdleTimeout());
        long inTransaction = nanos(limits.clientIdleInTransactionTimeout());
        if (idle == 0 && inTransaction == 0) {
            return null;
        }
        IdleTimeout timeout = new IdleTimeout(loop, session, idle, inTransaction);
        timeout.schedule();
        return timeout;
    }

    private static long nanos(Duration duration) {
        return duration.toNanos();
    }

    /** The client sent something. */
    void active() {
        idleSinceNanos = System.nanoTime();
    }

    void stop() {
        if (tick != null) {
            tick.cancel(false);
        }
    }

    private void schedule() {
        tick = loop.schedule(this::check, tickNanos, TimeUnit.NANOSECONDS);
    }

    private void check() {
        long now = System.nanoTime();
        if (session.busy()) {
            idleSinceNanos = now; // idle time starts when the last result went out
            schedule();
            return;
        }
        boolean inTransaction = session.inTransaction();
        long limit = inTransaction ? inTransactionNanos : idleNanos;
        if (limit > 0 && now - idleSinceNanos >= limit) {
            if (inTransaction) {
                session.end(SqlState.IDLE_IN_TRANSACTION_SESSION_TIMEOUT,
                        "terminating connection due to idle-in-transaction timeout");
            } else {
                session.end(SqlState.IDLE_SESSION_TIMEOUT, "terminating connection due to idle-session timeout");
            }
            return;
        }
        schedule();
    }
}
