package io.pgrelay.core.backend;

import io.netty.buffer.ByteBuf;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.codec.FrameScanner;
import io.pgrelay.protocol.message.backend.DataRow;
import io.pgrelay.protocol.message.backend.ErrorResponse;
import io.pgrelay.protocol.message.backend.ParameterStatus;
import io.pgrelay.protocol.message.backend.ReadyForQuery;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Which request each reply of one server answers, and where that reply goes: the frame
 * handler of a {@link BackendConnection}'s {@link FrameScanner}.
 *
 * <p>Every message sent that gets a reply is recorded in {@link PendingResponses} with the
 * owner of its replies: the client (forwarded), pgrelay itself (an {@link Internal} query,
 * whose results are swallowed), or a message pgrelay inserted into the client's stream (a
 * Parse re-preparing a statement on this server, whose reply is dropped; its error reaches the
 * client). Replies held for a possible retry on the primary pass through {@link HeldReplies};
 * how the client's last request ended is kept in {@link UnitOutcome}.
 *
 * <p>Confined to the connection's event loop.
 */
final class ReplyTracker implements FrameScanner.Handler {
    private static final Logger log = LoggerFactory.getLogger(BackendConnection.class);

    /** Owner of replies that go to the client. */
    private static final Object CLIENT = new Object();
    /** Owner of replies to messages pgrelay inserted; only their errors reach the client. */
    private static final Object INSERTED = new Object();

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

    private final BackendConnection connection;
    private final PendingResponses pending = new PendingResponses();
    private final UnitOutcome outcome = new UnitOutcome();
    private final HeldReplies gate = new HeldReplies();
    /** Where bytes for the client go: made once, so that passing a reply allocates nothing. */
    private final Consumer<ByteBuf> toListener = this::deliver;
    /** Set while a frame that completes the head entry is being passed on. */
    private boolean completesHead;
    private boolean skipAfterError;
    private boolean describeStarted;

    ReplyTracker(BackendConnection connection) {
        this.connection = connection;
    }

    // ---- what was sent ----

    /** A client message of reply kind {@code kind} ({@link PendingResponses#kindOf}; 0 = none) was sent. */
    void sentForClient(byte kind) {
        if (kind != 0) {
            pending.add(kind, CLIENT);
        }
    }

    /** A message pgrelay inserted into the client's stream was sent. */
    void sentInserted(byte kind) {
        if (kind != 0) {
            pending.add(kind, INSERTED);
        }
    }

    /** A query of pgrelay's own was sent. */
    void sentInternal(InternalQueryCallback callback, Consumer<List<String>> rows) {
        pending.add(PendingResponses.QUERY, new Internal(callback, rows));
    }

    boolean nothingPending() {
        return pending.isEmpty();
    }

    UnitOutcome outcome() {
        return outcome;
    }

    HeldReplies held() {
        return gate;
    }

    /** The server is gone: answers pgrelay's own queries with {@code error} unless they had one, drops the rest. */
    void serverGone(ErrorResponse error) {
        gate.release();
        List<Internal> internals = new ArrayList<>();
        pending.forEachOwner(owner -> {
            if (owner instanceof Internal internal) {
                internals.add(internal);
            }
        });
        pending.clear();
        for (Internal internal : internals) {
            internal.callback.onComplete(connection, internal.error != null ? internal.error : error);
        }
    }

    // ---- what the server answers ----

    private Object owner() {
        Object head = pending.headOwner();
        if (head != null) {
            return head;
        }
        return connection.listener() != null ? CLIENT : null;
    }

    private int toClient(Object owner) {
        return owner == CLIENT && connection.listener() != null ? FrameScanner.FORWARD : 0;
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
                return connection.listener() != null ? FrameScanner.FORWARD : 0;
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
                connection.transactionStatus(ReadyForQuery.statusOf(frame));
                if (!PendingResponses.endsAtReady(pending.headKind())) {
                    log.warn("{} sent ReadyForQuery while expecting reply kind {}", connection, pending.headKind());
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
                    connection.fatal(error);
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
                    log.info("{} is terminating: {} ({})", connection, error.message(), error.sqlState());
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
                    log.info("{} is terminating: {} ({})", connection, error.message(), error.sqlState());
                    return 0;
                }
                int forward = owner == CLIENT || owner == INSERTED ? (connection.listener() != null ? FrameScanner.FORWARD : 0) : 0;
                outcome.error();
                return forward | (skipAfterError ? FrameScanner.NOTIFY_AFTER : 0);
            }
            case ParameterStatus.TYPE -> {
                ParameterStatus status = ParameterStatus.decode(Wire.frameBody(frame));
                connection.parameterReported(status.name(), status.value());
                int action = toClient(owner);
                if (action != 0) {
                    connection.listener().onBackendParameter(connection, status.name(), status.value());
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
            internal.callback.onComplete(connection, internal.error);
            return;
        }
        BackendListener current = connection.listener();
        if (gate.discarding()) {
            gate.discarded();
            outcome.discarded();
            if (current != null) {
                current.onBackendRetry(connection);
            }
            return;
        }
        outcome.ended();
        if (current != null && done == CLIENT) {
            current.onBackendReady(connection, connection.transactionStatus(), pending.isEmpty());
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
        return connection.listener() != null ? toListener : null;
    }

    private void deliver(ByteBuf bytes) {
        BackendListener current = connection.listener();
        if (current != null) {
            current.onBackendData(connection, bytes);
        } else {
            bytes.release();
        }
    }
}
