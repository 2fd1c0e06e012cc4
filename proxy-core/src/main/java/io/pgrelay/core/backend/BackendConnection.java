package io.pgrelay.core.backend;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.pgrelay.protocol.PgProtocolException;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.codec.FrameScanner;
import io.pgrelay.protocol.message.Messages;
import io.pgrelay.protocol.message.backend.DataRow;
import io.pgrelay.protocol.message.backend.ErrorResponse;
import io.pgrelay.protocol.message.backend.ParameterStatus;
import io.pgrelay.protocol.message.backend.ReadyForQuery;
import io.pgrelay.protocol.message.backend.ReadyForQuery.TransactionStatus;
import io.pgrelay.protocol.message.frontend.Query;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * One authenticated connection to a PostgreSQL server, relaying its byte stream to the
 * attached client session without re-framing (see {@link FrameScanner}) while keeping
 * track of what the proxy must know: which request each ReadyForQuery answers, the
 * transaction status, server parameters and errors.
 *
 * <p>Every request that the server answers with a ReadyForQuery (Query, Sync, FunctionCall)
 * pushes an owner on {@link #pending}: either the client, whose responses are forwarded,
 * or an internal query of pgrelay's own, whose responses are swallowed. This lets pgrelay
 * pipeline its own statements (parameter replay, reset) in front of a client's.
 *
 * <p>Confined to its channel's event loop.
 */
public final class BackendConnection extends ChannelInboundHandlerAdapter implements FrameScanner.Handler {
    private static final Logger log = LoggerFactory.getLogger(BackendConnection.class);

    /** Marks a pending request whose responses belong to the client. */
    private static final Object CLIENT = new Object();

    private final Channel channel;
    private final PoolKey key;
    private final int processId;
    private final int secretKey;
    private final Map<String, String> parameters = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    private final ArrayDeque<Object> pending = new ArrayDeque<>(8);
    private final long createdNanos = System.nanoTime();
    private final FrameScanner scanner;

    private BackendPool pool;
    private BackendListener listener;
    private TransactionStatus transactionStatus = TransactionStatus.IDLE;
    private Object completed;
    private boolean closed;
    private boolean readRequested;
    private ErrorResponse fatalError;
    private long idleSinceNanos = System.nanoTime();

    /** A query of pgrelay's own, in flight. */
    private static final class Internal {
        final InternalQueryCallback callback;
        final Consumer<List<String>> rows;
        ErrorResponse error;

        Internal(InternalQueryCallback callback, Consumer<List<String>> rows) {
            this.callback = callback;
            this.rows = rows;
        }
    }

    BackendConnection(Channel channel, PoolKey key, int processId, int secretKey, Map<String, String> parameters,
                      TransactionStatus status, int maxMessageSize) {
        this.channel = channel;
        this.key = key;
        this.processId = processId;
        this.secretKey = secretKey;
        this.parameters.putAll(parameters);
        this.transactionStatus = status;
        this.scanner = new FrameScanner(this, channel.alloc(), maxMessageSize);
    }

    public Channel channel() {
        return channel;
    }

    public EventLoop eventLoop() {
        return channel.eventLoop();
    }

    public PoolKey key() {
        return key;
    }

    public int processId() {
        return processId;
    }

    public int secretKey() {
        return secretKey;
    }

    /** Server parameters as last reported by ParameterStatus (case-insensitive names). */
    public Map<String, String> parameters() {
        return parameters;
    }

    /** PostgreSQL 14+ reports {@code in_hot_standby}; true means this server is a standby. */
    public boolean isHotStandby() {
        return "on".equalsIgnoreCase(parameters.get("in_hot_standby"));
    }

    public TransactionStatus transactionStatus() {
        return transactionStatus;
    }

    /** No request outstanding: every Query/Sync sent has been answered. */
    public boolean isIdle() {
        return pending.isEmpty() && !scanner.inFrame();
    }

    public boolean isUsable() {
        return !closed && fatalError == null && channel.isActive();
    }

    public boolean isClosed() {
        return closed;
    }

    public long createdNanos() {
        return createdNanos;
    }

    long idleSinceNanos() {
        return idleSinceNanos;
    }

    BackendPool pool() {
        return pool;
    }

    void pool(BackendPool owner) {
        this.pool = owner;
    }

    public BackendListener listener() {
        return listener;
    }

    /** Attaches the session that will receive this backend's output. */
    public void attach(BackendListener newListener) {
        this.listener = newListener;
        requestRead();
    }

    public void detach() {
        this.listener = null;
        this.idleSinceNanos = System.nanoTime();
    }

    /**
     * Sends one client frame (header included; ownership passes to the channel). Query,
     * Sync and FunctionCall expect a ReadyForQuery, which will be forwarded to the client.
     */
    public void writeClientFrame(ByteBuf frame, byte type) {
        if (type == Query.TYPE || type == 'S' || type == 'F') {
            pending.addLast(CLIENT);
        }
        channel.write(frame, channel.voidPromise());
    }

    /** Runs a statement for pgrelay itself; its results are swallowed. Does not flush. */
    public void writeInternalQuery(String sql, InternalQueryCallback callback) {
        writeInternalQuery(sql, null, callback);
    }

    /** Like {@link #writeInternalQuery(String, InternalQueryCallback)}, passing each row's text values to {@code rows}. */
    public void writeInternalQuery(String sql, Consumer<List<String>> rows, InternalQueryCallback callback) {
        pending.addLast(new Internal(callback, rows));
        channel.write(Messages.encode(channel.alloc(), new Query(sql)), channel.voidPromise());
    }

    /**
     * Returns the connection to its pool once it is clean: rolls back an open transaction,
     * runs the reset query, and closes the connection instead when either fails or when it
     * is in the middle of a request (a client that vanished mid-query or mid-COPY).
     */
    public void recycle(String resetQuery) {
        detach();
        BackendPool owner = pool;
        if (owner == null || !isUsable() || !isIdle()) {
            close();
            return;
        }
        if (transactionStatus != TransactionStatus.IDLE) {
            writeInternalQuery("ROLLBACK", (backend, error) -> {
                if (error != null) {
                    close();
                }
            });
        }
        writeInternalQuery(resetQuery, (backend, error) -> {
            if (error != null || !isUsable()) {
                log.debug("{} could not be reset ({}); closing it", this, error);
                close();
            } else {
                owner.release(this);
            }
        });
        flush();
    }

    /** The server's address, for cancel requests. */
    public java.net.InetSocketAddress remoteAddress() {
        return (java.net.InetSocketAddress) channel.remoteAddress();
    }

    public void flush() {
        channel.flush();
    }

    /** Asks for the next read unless the attached client cannot take more output. */
    public void requestRead() {
        if (!readRequested && !closed) {
            readRequested = true;
            channel.read();
        }
    }

    /** After a move to another event loop the read interest is gone: ask again on the next attach. */
    void movedToAnotherLoop() {
        readRequested = false;
    }

    public void close() {
        if (!closed) {
            closed = true;
            channel.close();
        }
    }

    // ---- inbound ----

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf in = (ByteBuf) msg;
        try {
            scanner.scan(in);
        } finally {
            in.release();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        readRequested = false;
        BackendListener current = listener;
        if (current != null) {
            current.onBackendReadComplete(this);
        } else {
            requestRead();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        BackendListener current = listener;
        if (current != null) {
            current.onBackendWritabilityChanged(this, channel.isWritable());
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closed = true;
        scanner.release();
        String reason = fatalError != null ? fatalError.message() : "server closed the connection unexpectedly";
        failInternal(reason);
        BackendListener current = listener;
        listener = null;
        if (pool != null) {
            pool.discard(this);
        }
        if (current != null) {
            current.onBackendClosed(this, reason);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof PgProtocolException) {
            log.warn("backend {} pid {} sent malformed data: {}", key, processId, cause.getMessage());
        } else {
            log.debug("backend {} pid {}: {}", key, processId, cause.toString());
        }
        close();
    }

    private void failInternal(String reason) {
        for (Object owner : pending) {
            if (owner instanceof Internal internal) {
                ErrorResponse error = internal.error != null ? internal.error
                        : ErrorResponse.error("08006", reason);
                internal.callback.onComplete(this, error);
            }
        }
        pending.clear();
    }

    // ---- FrameScanner.Handler ----

    private Object owner() {
        Object head = pending.peekFirst();
        if (head != null) {
            return head;
        }
        return listener != null ? CLIENT : null;
    }

    @Override
    public boolean inspects(byte type) {
        return switch (type) {
            case ReadyForQuery.TYPE, ErrorResponse.TYPE, ParameterStatus.TYPE -> true;
            case DataRow.TYPE -> owner() instanceof Internal internal && internal.rows != null;
            default -> false;
        };
    }

    @Override
    public boolean forwards(byte type) {
        return owner() == CLIENT && listener != null;
    }

    @Override
    public int onFrame(byte type, ByteBuf frame) {
        Object owner = owner();
        boolean toClient = owner == CLIENT && listener != null;
        switch (type) {
            case ReadyForQuery.TYPE -> {
                transactionStatus = ReadyForQuery.decode(Wire.frameBody(frame)).status();
                completed = pending.pollFirst();
                if (completed == null) {
                    log.warn("backend {} pid {} sent ReadyForQuery with no request outstanding", key, processId);
                    completed = CLIENT;
                }
                if (completed instanceof Internal) {
                    return FrameScanner.NOTIFY_AFTER;
                }
                return toClient ? FrameScanner.FORWARD | FrameScanner.NOTIFY_AFTER : FrameScanner.NOTIFY_AFTER;
            }
            case ErrorResponse.TYPE -> {
                ErrorResponse error = ErrorResponse.decode(Wire.frameBody(frame));
                if (error.isFatal()) {
                    fatalError = error;
                }
                if (owner instanceof Internal internal) {
                    if (internal.error == null) {
                        internal.error = error;
                    }
                    return 0;
                }
                // A FATAL error while nothing is outstanding (admin shutdown, idle timeout)
                // concerns this connection, not the client's statement: keep it from the client.
                if (error.isFatal() && pending.isEmpty()) {
                    log.info("backend {} pid {} is terminating: {} ({})", key, processId, error.message(),
                            error.sqlState());
                    return 0;
                }
                return toClient ? FrameScanner.FORWARD : 0;
            }
            case ParameterStatus.TYPE -> {
                ParameterStatus status = ParameterStatus.decode(Wire.frameBody(frame));
                parameters.put(status.name(), status.value());
                return toClient ? FrameScanner.FORWARD : 0;
            }
            case DataRow.TYPE -> {
                if (owner instanceof Internal internal && internal.rows != null) {
                    internal.rows.accept(DataRow.decode(Wire.frameBody(frame)).textValues());
                }
                return 0;
            }
            default -> {
                return toClient ? FrameScanner.FORWARD : 0;
            }
        }
    }

    @Override
    public void afterFrame(byte type) {
        if (type != ReadyForQuery.TYPE) {
            return;
        }
        Object done = completed;
        completed = null;
        if (done instanceof Internal internal) {
            internal.callback.onComplete(this, internal.error);
        } else if (listener != null) {
            listener.onBackendReady(this, transactionStatus, pending.isEmpty());
        }
    }

    @Override
    public void forward(ByteBuf bytes) {
        BackendListener current = listener;
        if (current != null) {
            current.onBackendData(this, bytes);
        } else {
            bytes.release();
        }
    }

    @Override
    public String toString() {
        return "backend " + key + " pid " + processId;
    }
}
