package io.pgrelay.core.backend;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.pgrelay.protocol.PgProtocolException;
import io.pgrelay.protocol.SqlState;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.codec.FrameScanner;
import io.pgrelay.protocol.message.FrontendMessage;
import io.pgrelay.protocol.message.Messages;
import io.pgrelay.protocol.message.backend.ErrorResponse;
import io.pgrelay.protocol.message.backend.ReadyForQuery.TransactionStatus;
import io.pgrelay.protocol.message.frontend.Query;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * One authenticated connection to a PostgreSQL server, relaying its byte stream to the
 * attached client session without re-framing (see {@link FrameScanner}) while keeping
 * track of what the proxy must know: the transaction status, server parameters and errors.
 * Which message each reply answers, and whether it goes to the client, is the job of its
 * {@link ReplyTracker}; this lets pgrelay pipeline its own messages in front of a client's
 * without a round trip.
 *
 * <p>Confined to its channel's event loop.
 */
public final class BackendConnection extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(BackendConnection.class);

    private final Channel channel;
    private final PoolKey key;
    private final int processId;
    private final int secretKey;
    private final Map<String, String> parameters = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    private final ReplyTracker replies = new ReplyTracker(this);
    private final FrameScanner scanner;
    private final ServerSessionState sessionState = new ServerSessionState();

    private BackendPool pool;
    private BackendListener listener;
    private TransactionStatus transactionStatus;
    private boolean closed;
    private boolean readRequested;
    private ErrorResponse fatalError;
    private long idleSinceNanos = System.nanoTime();
    /** backend.query-timeout; null when it is off. */
    private ReplyDeadline deadline;

    BackendConnection(Channel channel, PoolKey key, int processId, int secretKey, Map<String, String> parameters,
                      TransactionStatus status, int maxMessageSize) {
        this.channel = channel;
        this.key = key;
        this.processId = processId;
        this.secretKey = secretKey;
        this.parameters.putAll(parameters);
        this.transactionStatus = status;
        this.scanner = new FrameScanner(replies, channel.alloc(), maxMessageSize);
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

    public int nodeIndex() {
        return key.nodeIndex();
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

    /** No reply outstanding and not in the middle of a frame. */
    public boolean isIdle() {
        return replies.nothingPending() && !scanner.inFrame();
    }

    /** Whether the client's last request answered with ReadyForQuery raised an error. */
    public boolean lastUnitFailed() {
        return replies.outcome().lastFailed();
    }

    /** How many commands of the client's last request answered with ReadyForQuery completed. */
    public int lastUnitCompleted() {
        return replies.outcome().lastCompleted();
    }

    public boolean isUsable() {
        return !closed && fatalError == null && channel.isActive();
    }

    public boolean isClosed() {
        return closed;
    }

    public String nodeName() {
        return key.nodeName();
    }

    /** Whether the server owes a reply to something sent. */
    boolean owesReply() {
        return !replies.nothingPending();
    }

    void watchReplies(long timeoutNanos, ReplyDeadline.Faults faults) {
        deadline = new ReplyDeadline(this, timeoutNanos, faults);
        deadline.start();
    }

    // ---- what the replies tell (from ReplyTracker) ----

    void transactionStatus(TransactionStatus status) {
        this.transactionStatus = status;
    }

    /** The server sent a FATAL error: it is going away. */
    void fatal(ErrorResponse error) {
        this.fatalError = error;
    }

    void parameterReported(String name, String value) {
        parameters.put(name, value);
    }

    /** The server stopped answering: close as if it had failed, with why. */
    void closeSilent(String detail) {
        if (fatalError == null) {
            fatalError = ErrorResponse.error(SqlState.CONNECTION_FAILURE, detail);
        }
        close();
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

    /** What sessions established on this connection: settings and prepared statements. */
    public ServerSessionState sessionState() {
        return sessionState;
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

    /** Sends one client frame (header included; ownership passes to the channel). */
    public void writeClientFrame(ByteBuf frame) {
        byte type = Wire.frameType(frame);
        if (type == Query.TYPE) {
            sessionState.unnamedReplaced();
        }
        byte kind = PendingResponses.kindOf(type, type == 'D' ? frame.getByte(frame.readerIndex() + 5) : 0);
        replies.sentForClient(kind);
        if (deadline != null) {
            deadline.heard(); // COPY data streaming in counts: the server answers only at its end
        }
        channel.write(frame, channel.voidPromise());
    }

    /**
     * Sends a message of pgrelay's own inside the client's stream (e.g. a Parse preparing a
     * statement the client prepared on another server); its reply is dropped, its error
     * goes to the client. Does not flush.
     */
    public void writeInsertedMessage(FrontendMessage message, byte type) {
        byte kind = PendingResponses.kindOf(type, (byte) 'S');
        replies.sentInserted(kind);
        if (deadline != null) {
            deadline.heard();
        }
        channel.write(Messages.encode(channel.alloc(), message), channel.voidPromise());
    }

    /** Runs a statement for pgrelay itself; its results are swallowed. Does not flush. */
    public void writeInternalQuery(String sql, InternalQueryCallback callback) {
        writeInternalQuery(sql, null, callback);
    }

    /** Like {@link #writeInternalQuery(String, InternalQueryCallback)}, passing each row's text values to {@code rows}. */
    public void writeInternalQuery(String sql, Consumer<List<String>> rows, InternalQueryCallback callback) {
        sessionState.unnamedReplaced();
        if (deadline != null && replies.nothingPending()) {
            deadline.heard();
        }
        replies.sentInternal(callback, rows);
        channel.write(Messages.encode(channel.alloc(), new Query(sql)), channel.voidPromise());
    }

    /**
     * Holds back the replies to what was just sent until the first row, command completion
     * or error: if that is an error only a standby raises, the client sees nothing and the
     * listener is told to run the same request on the primary ({@link BackendListener#onBackendRetry}).
     */
    public void holdUntilResult() {
        replies.held().hold();
    }

    /** Nothing of the replies to the held request has reached the client yet. */
    public boolean repliesHeld() {
        return replies.held().holding();
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
        sessionState.reset();
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

    /** Returns a clean connection to its pool as is (transaction pooling: session state is replayed, not reset). */
    public void release() {
        detach();
        BackendPool owner = pool;
        if (owner == null || !isUsable() || !isIdle() || transactionStatus != TransactionStatus.IDLE) {
            close();
            return;
        }
        owner.release(this);
    }

    /** The server's address, for cancel requests. */
    public InetSocketAddress remoteAddress() {
        return (InetSocketAddress) channel.remoteAddress();
    }

    public void flush() {
        channel.flush();
    }

    /** Asks for the next read unless one is already requested. */
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
        if (deadline != null) {
            deadline.heard();
        }
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
        replies.serverGone(ErrorResponse.error("08006", reason));
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
            log.warn("{} sent malformed data: {}", this, cause.getMessage());
        } else {
            log.debug("{}: {}", this, cause.toString());
        }
        close();
    }

    @Override
    public String toString() {
        return "backend " + key + " pid " + processId;
    }
}
