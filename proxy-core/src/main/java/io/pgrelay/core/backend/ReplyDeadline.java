package io.pgrelay.core.backend;

import io.netty.channel.EventLoop;

import java.util.concurrent.TimeUnit;

/**
 * {@code backend.query-timeout} for one server connection. A server that sends nothing for the
 * timeout while it owes a reply is asked to cancel: a slow statement then ends with the server's
 * own 57014 and the connection stays. A server that still sends nothing for another timeout is
 * frozen (a stopped process or a hung host behind an open TCP connection, which neither the
 * kernel's keepalive nor a socket error reveals): the connection is closed, so the session's
 * lost-server path re-runs a read on the primary or answers with a clean SQLSTATE, and the
 * node is reported so that no other session waits on it. Checked by one task per connection
 * on its event loop at a quarter of the timeout; none exists when the timeout is off.
 */
public final class ReplyDeadline {
    /** What happens to a silent server: delivered on the connection's event loop. */
    public interface Faults {
        void cancel(BackendConnection backend);

        void frozen(BackendConnection backend, String detail);
    }

    private final BackendConnection backend;
    private final long timeoutNanos;
    private final Faults faults;
    private long lastHeardNanos = System.nanoTime();
    private boolean cancelSent;

    ReplyDeadline(BackendConnection backend, long timeoutNanos, Faults faults) {
        this.backend = backend;
        this.timeoutNanos = timeoutNanos;
        this.faults = faults;
    }

    /** The server sent something, or a new request started: the silence starts over. */
    void heard() {
        lastHeardNanos = System.nanoTime();
        cancelSent = false;
    }

    void start() {
        schedule();
    }

    private void schedule() {
        backend.channel().eventLoop().schedule(this::check, Math.max(1, timeoutNanos / 4), TimeUnit.NANOSECONDS);
    }

    private void check() {
        EventLoop loop = backend.channel().eventLoop();
        if (!loop.inEventLoop()) {
            loop.execute(this::check); // the connection moved to another client's loop
            return;
        }
        if (backend.isClosed()) {
            return;
        }
        if (backend.owesReply()) {
            long silentNanos = System.nanoTime() - lastHeardNanos;
            if (cancelSent && silentNanos >= 2 * timeoutNanos) {
                String detail = "no reply from " + backend.nodeName() + " for "
                        + TimeUnit.NANOSECONDS.toMillis(silentNanos) + " ms, not even to a cancel request"
                        + " (backend.query-timeout " + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms)";
                faults.frozen(backend, detail);
                backend.closeSilent(detail);
                return;
            }
            if (!cancelSent && silentNanos >= timeoutNanos) {
                cancelSent = true;
                faults.cancel(backend);
            }
        }
        schedule();
    }
}
