package io.pgrelay.core.backend;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Backend connections for one (node, user, database). Idle connections are kept per event
 * loop, so a session normally gets one already registered on its own loop and no state is
 * shared between threads; when the pool is full, a connection freed on another loop is
 * moved to the waiting session's loop. The only shared state is the connection count and
 * the waiter queue, both lock-free.
 */
public final class BackendPool {
    private static final Logger log = LoggerFactory.getLogger(BackendPool.class);

    private final PoolKey key;
    private final String host;
    private final int port;
    private final String password;
    private final int maxSize;
    private final long acquireTimeoutMillis;
    private final long idleTimeoutNanos;
    private final BackendConnector connector;
    private final EventLoops loops;
    private final ArrayDeque<BackendConnection>[] idle;
    private final AtomicInteger total = new AtomicInteger();
    private final AtomicInteger idleCount = new AtomicInteger();
    private final ConcurrentLinkedQueue<Waiter> waiters = new ConcurrentLinkedQueue<>();
    private final LongAdder opened = new LongAdder();
    private final LongAdder closedConnections = new LongAdder();
    private volatile boolean closed;

    private record Waiter(EventLoop loop, Promise<BackendConnection> promise, long startNanos) {
    }

    @SuppressWarnings("unchecked")
    BackendPool(PoolKey key, String host, int port, String password, int maxSize, long acquireTimeoutMillis,
                long idleTimeoutMillis, BackendConnector connector, EventLoops loops) {
        this.key = key;
        this.host = host;
        this.port = port;
        this.password = password;
        this.maxSize = maxSize;
        this.acquireTimeoutMillis = acquireTimeoutMillis;
        this.idleTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(idleTimeoutMillis);
        this.connector = connector;
        this.loops = loops;
        this.idle = new ArrayDeque[loops.size()];
        for (int i = 0; i < idle.length; i++) {
            idle[i] = new ArrayDeque<>();
        }
    }

    public PoolKey key() {
        return key;
    }

    public int total() {
        return total.get();
    }

    public int idle() {
        return idleCount.get();
    }

    public int waiting() {
        return waiters.size();
    }

    public int maxSize() {
        return maxSize;
    }

    /** Connections handed out or being opened: every slot that is not idle. */
    public int active() {
        return Math.max(0, total.get() - idleCount.get());
    }

    /** Backend connections opened since start (cumulative). */
    public long openedTotal() {
        return opened.sum();
    }

    /** Backend connections gone for good since start (cumulative). */
    public long closedTotal() {
        return closedConnections.sum();
    }

    /** Gets a clean, idle connection registered on {@code loop}. Must be called on {@code loop}. */
    public Future<BackendConnection> acquire(EventLoop loop) {
        Promise<BackendConnection> promise = loop.newPromise();
        if (closed) {
            promise.setFailure(BackendStartupException.connectionFailure("pool " + key + " is closed"));
            return promise;
        }
        ArrayDeque<BackendConnection> local = idle[loops.indexOf(loop)];
        BackendConnection connection;
        while ((connection = local.pollFirst()) != null) {
            idleCount.decrementAndGet();
            if (connection.isUsable()) {
                promise.setSuccess(connection);
                return promise;
            }
            connection.close();
        }
        if (reserveSlot()) {
            open(loop, promise);
            return promise;
        }
        Waiter waiter = new Waiter(loop, promise, System.nanoTime());
        waiters.add(waiter);
        ScheduledFuture<?> timeout = loop.schedule(() -> {
            if (waiters.remove(waiter)) {
                promise.tryFailure(new PoolExhaustedException(key, maxSize, acquireTimeoutMillis));
            }
        }, acquireTimeoutMillis, TimeUnit.MILLISECONDS);
        promise.addListener(done -> timeout.cancel(false));
        // A slot may have been freed between the check and the enqueue.
        if (reserveSlot()) {
            if (waiters.remove(waiter)) {
                open(loop, promise);
            } else {
                total.decrementAndGet();
            }
        } else if (idleCount.get() > 0) {
            stealIdleFromOtherLoops(loop);
        }
        return promise;
    }

    /**
     * The pool is full but connections sit idle on other loops: have each of those loops
     * pass one of its idle connections through {@link #release}, which serves the waiter.
     */
    private void stealIdleFromOtherLoops(EventLoop current) {
        for (int i = 0; i < idle.length; i++) {
            EventLoop other = loops.get(i);
            if (other == current) {
                continue;
            }
            int index = i;
            other.execute(() -> {
                if (waiters.isEmpty()) {
                    return;
                }
                BackendConnection connection = idle[index].pollFirst();
                if (connection != null) {
                    idleCount.decrementAndGet();
                    release(connection);
                }
            });
        }
    }

    private boolean reserveSlot() {
        while (true) {
            int current = total.get();
            if (current >= maxSize) {
                return false;
            }
            if (total.compareAndSet(current, current + 1)) {
                return true;
            }
        }
    }

    private void open(EventLoop loop, Promise<BackendConnection> promise) {
        connector.connect(loop, host, port, key, password).addListener((Future<BackendConnection> f) -> {
            if (f.isSuccess()) {
                BackendConnection connection = f.getNow();
                opened.increment();
                connection.pool(this);
                if (!promise.trySuccess(connection)) {
                    release(connection);
                }
            } else {
                total.decrementAndGet();
                promise.tryFailure(f.cause());
                serveWaiter();
            }
        });
    }

    /**
     * Returns a clean connection (idle, outside a transaction, reset). Called on the
     * connection's event loop.
     */
    public void release(BackendConnection connection) {
        connection.detach();
        if (closed || !connection.isUsable() || !connection.isIdle()) {
            connection.close();
            return;
        }
        Waiter waiter;
        while ((waiter = waiters.poll()) != null) {
            if (waiter.promise().isDone()) {
                continue;
            }
            if (waiter.loop() == connection.eventLoop()) {
                if (waiter.promise().trySuccess(connection)) {
                    return;
                }
                continue;
            }
            handOver(connection, waiter);
            return;
        }
        idle[loops.indexOf(connection.eventLoop())].addFirst(connection);
        idleCount.incrementAndGet();
    }

    /**
     * Moves a connection to another event loop for a waiter there. If the move fails, or the
     * transport cannot move a connection (io_uring), the connection is closed and the waiter
     * queued again, so the freed slot serves it.
     */
    private void handOver(BackendConnection connection, Waiter waiter) {
        if (!connector.movesConnectionsBetweenLoops()) {
            // The slot this connection frees opens a new one on the waiter's loop.
            waiters.add(waiter);
            connection.close();
            return;
        }
        Channel channel = connection.channel();
        channel.deregister().addListener(deregistered -> {
            if (!deregistered.isSuccess()) {
                log.warn("could not detach {} from its event loop: {}", connection, deregistered.cause().toString());
                waiters.add(waiter);
                connection.close();
                return;
            }
            waiter.loop().register(channel).addListener(registered -> {
                connection.movedToAnotherLoop();
                if (!registered.isSuccess()) {
                    log.warn("could not move {} to another event loop: {}", connection, registered.cause().toString());
                    waiters.add(waiter);
                    connection.close();
                } else if (!waiter.promise().trySuccess(connection)) {
                    release(connection);
                }
            });
        });
    }

    /** A connection is gone for good: free its slot and let a waiter open a new one. */
    void discard(BackendConnection connection) {
        if (connection.pool() != this) {
            return;
        }
        connection.pool(null);
        closedConnections.increment();
        EventLoop loop = connection.eventLoop();
        if (loop.inEventLoop() && idle[loops.indexOf(loop)].remove(connection)) {
            idleCount.decrementAndGet();
        }
        total.decrementAndGet();
        serveWaiter();
    }

    private void serveWaiter() {
        Waiter waiter;
        while ((waiter = waiters.peek()) != null) {
            if (waiter.promise().isDone()) {
                waiters.remove(waiter);
                continue;
            }
            if (!reserveSlot()) {
                return;
            }
            if (!waiters.remove(waiter)) {
                total.decrementAndGet();
                continue;
            }
            Waiter chosen = waiter;
            chosen.loop().execute(() -> open(chosen.loop(), chosen.promise()));
            return;
        }
    }

    /** Closes connections idle for longer than the idle timeout; runs on each loop in turn. */
    void closeIdle(int loopIndex, long nowNanos) {
        Iterator<BackendConnection> it = idle[loopIndex].descendingIterator();
        while (it.hasNext()) {
            BackendConnection connection = it.next();
            if (nowNanos - connection.idleSinceNanos() >= idleTimeoutNanos || !connection.isUsable() || closed) {
                it.remove();
                idleCount.decrementAndGet();
                connection.close();
            }
        }
    }

    void close() {
        closed = true;
        Waiter waiter;
        while ((waiter = waiters.poll()) != null) {
            waiter.promise().tryFailure(BackendStartupException.connectionFailure("pool " + key + " is closed"));
        }
        for (int i = 0; i < idle.length; i++) {
            int loopIndex = i;
            loops.get(i).execute(() -> closeIdle(loopIndex, Long.MAX_VALUE));
        }
    }

    @Override
    public String toString() {
        return "pool " + key + " (" + total.get() + "/" + maxSize + ", idle " + idleCount.get() + ")";
    }
}
