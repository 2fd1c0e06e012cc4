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
import io.pgrelay.protocol.message.backend.DataRow;
import io.pgrelay.protocol.message.backend.ErrorResponse;
import io.pgrelay.protocol.message.backend.ParameterStatus;
import io.pgrelay.protocol.message.backend.ReadyForQuery;
import io.pgrelay.protocol.message.backend.ReadyForQuery.TransactionStatus;
import io.pgrelay.protocol.message.frontend.Query;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * One authenticated connection to a PostgreSQL server, relaying its byte stream to the
 * attached client session without re-framing (see {@link FrameScanner}) while keeping
 * track of what the proxy must know: which message each reply answers, the transaction
 * status, server parameters and errors.
 *
 * <p>Every message sent that gets a reply is recorded in {@link PendingResponses} with the
 * owner of its replies: the client (forwarded), pgrelay itself (an internal query, whose
 * results are swallowed), or a message pgrelay inserted into the client's stream (a Parse
 * re-preparing a statement on this server, whose reply is dropped). This lets pgrelay
 * pipeline its own messages in front of a client's without a round trip.
 *
 * <p>Confined to its channel's event loop.
 */
public final class BackendConnection extends ChannelInboundHandlerAdapter implements FrameScanner.Handler {
    private static final Logger log = LoggerFactory.getLogger(BackendConnection.class);

    /** Owner of replies that go to the client. */
    private static final Object CLIENT = new Object();
    /** Owner of replies to messages pgrelay inserted; only their errors reach the client. */
    private static final Object INSERTED = new Object();

    private final Channel channel;
    private final PoolKey key;
    private final int processId;
    private final int secretKey;
    private final Map<String, String> parameters = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    private final PendingResponses pending = new PendingResponses();
    private final FrameScanner scanner;
    private final ServerSessionState sessionState = new ServerSessionState();

    private BackendPool pool;
    private BackendListener listener;
    private TransactionStatus transactionStatus;
    private boolean closed;
    private boolean readRequested;
    private ErrorResponse fatalError;
    private long idleSinceNanos = System.nanoTime();

    /** Set while a frame that completes the head entry is being passed on. */
    private boolean completesHead;
    private boolean skipAfterError;
    private boolean describeStarted;

    private final UnitOutcome outcome = new UnitOutcome();
    private final HeldReplies gate = new HeldReplies();
    /** Where bytes for the client go: made once, so that passing a reply allocates nothing. */
    private final Consumer<ByteBuf> toListener = this::deliver;
    /** backend.query-timeout; null when it is off. */
    private ReplyDeadline deadline;


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
        return pending.isEmpty() && !scanner.inFrame();
    }

    /** Whether the client's last request answered with ReadyForQuery raised an error. */
    public boolean lastUnitFailed() {
        return outcome.lastFailed();
    }

    /** How many commands of the client's last request answered with ReadyForQuery completed. */
    public int lastUnitCompleted() {
        return outcome.lastCompleted();
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
        return !pending.isEmpty();
    }

    void watchReplies(long timeoutNanos, ReplyDeadline.Faults faults) {
        deadline = new ReplyDeadline(this, timeoutNanos, faults);
        deadline.start();
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
        if (kind != 0) {
            pending.add(kind, CLIENT);
        }
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
        if (kind != 0) {
            pending.add(kind, INSERTED);
        }
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
        if (deadline != null && pending.isEmpty()) {
            deadline.heard();
        }
        pending.add(PendingResponses.QUERY, new Internal(callback, rows));
        channel.write(Messages.encode(channel.alloc(), new Query(sql)), channel.voidPromise());
    }

    /**
     * Holds back the replies to what was just sent until the first row, command completion
     * or error: if that is an error only a standby raises, the client sees nothing and the
     * listener is told to run the same request on the primary ({@link BackendListener#onBackendRetry}).
     */
    public void holdUntilResult() {
        gate.hold();
    }

    /** Nothing of the replies to the held request has reached the client yet. */
    public boolean repliesHeld() {
        return gate.holding();
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
        gate.release();
        String reason = fatalError != null ? fatalError.message() : "server closed the connection unexpectedly";
        List<Internal> internals = new ArrayList<>();
        pending.forEachOwner(owner -> {
            if (owner instanceof Internal internal) {
                internals.add(internal);
            }
        });
        pending.clear();
        for (Internal internal : internals) {
            internal.callback.onComplete(this, internal.error != null ? internal.error
                    : ErrorResponse.error("08006", reason));
        }
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

    // ---- FrameScanner.Handler ----

    private Object owner() {
        Object head = pending.headOwner();
        if (head != null) {
            return head;
        }
        return listener != null ? CLIENT : null;
    }

    private int toClient(Object owner) {
        return owner == CLIENT && listener != null ? FrameScanner.FORWARD : 0;
    }

    @Override
    public int onFrameStart(byte type, int frameLength) {
        Object owner = owner();
        byte kind = pending.headKind();
        switch (type) {
            case ReadyForQuery.TYPE, ErrorResponse.TYPE, ParameterStatus.TYPE:
                return FrameScanner.INSPECT;
            case DataRow.TYPE:
                if (owner instanceof Internal internal && internal.rows != null) {
                    return FrameScanner.INSPECT;
                }
                openGateFor(owner);
                return toClient(owner);
            case 'A':
                // Notifications belong to the client whatever is in flight.
                return listener != null ? FrameScanner.FORWARD : 0;
            case 'N':
                return toClient(owner);
            case '1':
                return complete(kind == PendingResponses.PARSE, owner);
            case '2':
                return complete(kind == PendingResponses.BIND, owner);
            case '3':
                return complete(kind == PendingResponses.CLOSE, owner);
            case 't':
                describeStarted = kind == PendingResponses.DESCRIBE_STATEMENT;
                return toClient(owner);
            case 'T', 'n':
                return complete(kind == PendingResponses.DESCRIBE_PORTAL
                        || (kind == PendingResponses.DESCRIBE_STATEMENT && describeStarted), owner);
            case 'C', 's', 'I':
                openGateFor(owner);
                if (type != 's' && owner == CLIENT) {
                    outcome.commandCompleted();
                }
                return complete(kind == PendingResponses.EXECUTE, owner);
            case 'G', 'H', 'W', 'd', 'c', 'V':
                openGateFor(owner);
                return toClient(owner);
            default:
                return toClient(owner);
        }
    }

    private int complete(boolean completesHeadEntry, Object owner) {
        int action = toClient(owner);
        if (completesHeadEntry) {
            completesHead = true;
            action |= FrameScanner.NOTIFY_AFTER;
        }
        return action;
    }

    @Override
    public int onFrame(byte type, ByteBuf frame) {
        Object owner = owner();
        switch (type) {
            case ReadyForQuery.TYPE -> {
                transactionStatus = ReadyForQuery.statusOf(frame);
                if (!PendingResponses.endsAtReady(pending.headKind())) {
                    log.warn("{} sent ReadyForQuery while expecting reply kind {}", this, pending.headKind());
                    pending.skipToSync();
                }
                completesHead = true;
                if (gate.discarding() || owner instanceof Internal) {
                    return FrameScanner.NOTIFY_AFTER;
                }
                openGateFor(owner);
                return toClient(owner) | FrameScanner.NOTIFY_AFTER;
            }
            case ErrorResponse.TYPE -> {
                ErrorResponse error = ErrorResponse.decode(Wire.frameBody(frame));
                if (error.isFatal()) {
                    fatalError = error;
                }
                byte kind = pending.headKind();
                if (PendingResponses.isExtended(kind)) {
                    skipAfterError = true;
                }
                if (owner instanceof Internal internal) {
                    if (internal.error == null) {
                        internal.error = error;
                    }
                    return skipAfterError ? FrameScanner.NOTIFY_AFTER : 0;
                }
                if (error.isFatal() && (owner == CLIENT || owner == INSERTED)) {
                    // The server is going away: the session learns it from the close and
                    // answers (or re-runs) the outstanding work itself, so the client keeps
                    // its connection to pgrelay.
                    log.info("{} is terminating: {} ({})", this, error.message(), error.sqlState());
                    if (gate.holding()) {
                        gate.release();
                    }
                    return 0;
                }
                if (gate.holding() && owner == CLIENT) {
                    if (StandbyErrors.isStandbyOnly(error)) {
                        gate.discard();
                        return skipAfterError ? FrameScanner.NOTIFY_AFTER : 0;
                    }
                    gate.open(clientSink());
                }
                // A FATAL error while nothing is outstanding (admin shutdown, idle timeout)
                // concerns this connection, not the client's statement: keep it from the client.
                if (error.isFatal() && pending.isEmpty()) {
                    log.info("{} is terminating: {} ({})", this, error.message(), error.sqlState());
                    return 0;
                }
                int forward = owner == CLIENT || owner == INSERTED ? (listener != null ? FrameScanner.FORWARD : 0) : 0;
                outcome.error();
                return forward | (skipAfterError ? FrameScanner.NOTIFY_AFTER : 0);
            }
            case ParameterStatus.TYPE -> {
                ParameterStatus status = ParameterStatus.decode(Wire.frameBody(frame));
                parameters.put(status.name(), status.value());
                int action = toClient(owner);
                if (action != 0) {
                    listener.onBackendParameter(this, status.name(), status.value());
                }
                return action;
            }
            case DataRow.TYPE -> {
                if (owner instanceof Internal internal && internal.rows != null) {
                    internal.rows.accept(DataRow.decode(Wire.frameBody(frame)).textValues());
                }
                return 0;
            }
            default -> {
                return toClient(owner);
            }
        }
    }

    @Override
    public void afterFrame(byte type) {
        if (skipAfterError) {
            skipAfterError = false;
            completesHead = false;
            describeStarted = false;
            pending.poll();
            pending.skipToSync();
            return;
        }
        if (!completesHead) {
            return;
        }
        completesHead = false;
        describeStarted = false;
        Object done = pending.poll();
        if (type != ReadyForQuery.TYPE) {
            return;
        }
        if (done instanceof Internal internal) {
            internal.callback.onComplete(this, internal.error);
            return;
        }
        BackendListener current = listener;
        if (gate.discarding()) {
            gate.discarded();
            outcome.discarded();
            if (current != null) {
                current.onBackendRetry(this);
            }
            return;
        }
        outcome.ended();
        if (current != null && done == CLIENT) {
            current.onBackendReady(this, transactionStatus, pending.isEmpty());
        }
    }

    @Override
    public void forward(ByteBuf bytes) {
        gate.pass(bytes, clientSink());
    }

    private void openGateFor(Object owner) {
        if (owner == CLIENT) {
            gate.open(clientSink());
        }
    }

    /** The attached session's sink, or null without one (bytes are then dropped). */
    private Consumer<ByteBuf> clientSink() {
        return listener != null ? toListener : null;
    }

    private void deliver(ByteBuf bytes) {
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
