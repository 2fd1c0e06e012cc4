package io.pgrelay.core.session;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.pgrelay.core.auth.ClientCredentials;
import io.pgrelay.core.backend.BackendConnection;
import io.pgrelay.core.classify.SessionEffect;
import io.pgrelay.protocol.PgProtocolException;
import io.pgrelay.protocol.SqlState;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.backend.ErrorResponse;
import io.pgrelay.protocol.message.backend.ReadyForQuery.TransactionStatus;
import io.pgrelay.protocol.message.frontend.StartupMessage;

import java.util.ArrayDeque;
import java.util.Map;

/**
 * One authenticated client: the Netty handler between its connection and the session's
 * {@link SessionEngine}. Logs in through the primary ({@link SessionLogin}), queues the client's
 * frames while the engine waits, reads from the client only when the engine and the backend can
 * take more, and hands cancel requests and signals to the engine's loop. All state is confined to
 * the client's event loop; backends are opened on the same loop, so nothing needs locks.
 */
public final class ClientSession extends ChannelInboundHandlerAdapter implements ClientLink, CancelRegistry.Cancellable {
    private enum State { CONNECTING, READY, CLOSED }

    private final SessionFactory shared;
    /** The client's user name; the startup packet itself is not kept (an idle client holds less). */
    private final String user;
    private final ArrayDeque<ByteBuf> waiting = new ArrayDeque<>(2);
    private ChannelHandlerContext ctx;
    private Channel client;
    private EventLoop loop;
    private State state = State.CONNECTING;
    private final CancelRegistry.Key cancelKey;
    private final SessionParts parts;
    private SessionLogin login;
    private SessionEngine engine;
    private boolean clientReadPaused;
    private boolean backendReadPaused;
    /** The proxy is shutting down: the session ends at its next transaction boundary. */
    private boolean endAtBoundary;
    private IdleTimeout idleTimeout;

    /** Fails with the server's error for startup options that are not valid (the client gets it as FATAL). */
    ClientSession(SessionFactory shared, StartupMessage startup, ClientCredentials credentials) {
        this.shared = shared;
        this.user = startup.user();
        String backendUser = credentials != null ? credentials.backendUser() : startup.user();
        String backendPassword = credentials != null ? credentials.backendPassword() : null;
        StartupOptions options = StartupOptions.parse(startup.parameters());
        this.cancelKey = shared.cancels.register(this);
        this.parts = new SessionParts(shared, backendUser, startup.database(), backendPassword,
                StartupSettings.of(options.settings()), cancelKey.processId(), this::signal);
        for (Map.Entry<String, String> setting : options.proxySettings().entrySet()) {
            ErrorResponse error = parts.proxySettings().set(setting.getKey(), setting.getValue());
            if (error != null) {
                shared.cancels.unregister(cancelKey);
                throw new PgProtocolException(error.sqlState(), error.message());
            }
        }
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.client = ctx.channel();
        this.loop = ctx.channel().eventLoop();
        parts.registration(ClientRegistry.of(client));
        login = new SessionLogin(this, loop, parts, cancelKey, this::loggedIn);
        login.start();
    }

    private void loggedIn(BackendConnection backend) {
        if (state != State.CONNECTING) {
            backend.recycle(parts.resetQuery());
            return;
        }
        engine = new SessionEngine(this, loop, parts, backend);
        state = State.READY;
        engine.started();
        idleTimeout = IdleTimeout.start(loop, shared.config.limits(), new IdleTimeout.Session() {
            @Override
            public boolean busy() {
                return engine.waiting() || !engine.inflight.isEmpty() || !waiting.isEmpty();
            }

            @Override
            public boolean inTransaction() {
                return !parts.transaction().idle();
            }

            @Override
            public void end(String sqlState, String message) {
                fatal(sqlState, message);
            }
        });
        drain();
        readMore();
    }

    // ---------------------------------------------------------------- client -> engine

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        if (state == State.CLOSED) {
            frame.release();
            return;
        }
        if (Wire.frameType(frame) == 'X') {
            frame.release();
            close();
            return;
        }
        if (idleTimeout != null) {
            idleTimeout.active();
        }
        waiting.addLast(frame);
        if (state == State.READY && !engine.waiting()) {
            drain();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (engine != null) {
            engine.flushBackend();
        }
        readMore();
    }

    /** Hands queued client frames to the engine until it has to wait. */
    @Override
    public void drain() {
        if (state != State.READY) {
            return;
        }
        try {
            ByteBuf frame;
            while (state == State.READY && !engine.waiting() && (frame = waiting.pollFirst()) != null) {
                if (Wire.frameType(frame) == 'X') {
                    frame.release();
                    close();
                    return;
                }
                if (endAtBoundary && engine.atBoundary()) {
                    // Shutting down and between transactions: the next statement must not start,
                    // even when it arrived before the task that quiet() queued has run.
                    frame.release();
                    ClientShutdown.end(client);
                    return;
                }
                engine.frame(frame);
            }
        } catch (RuntimeException e) {
            fail(e);
            return;
        }
        engine.flushBackend();
        readMore();
    }

    /** Reads more from the client only while nothing waits and the backend can take it. */
    @Override
    public void readMore() {
        if (state != State.READY || engine.waiting() || !waiting.isEmpty()) {
            return;
        }
        BackendConnection current = engine.current();
        if (current != null && !current.channel().isWritable()) {
            clientReadPaused = true;
        } else {
            clientReadPaused = false;
            ctx.read();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (client.isWritable() && backendReadPaused && engine != null) {
            backendReadPaused = false;
            engine.clientWritable();
        }
        ctx.fireChannelWritabilityChanged();
    }

    // ---------------------------------------------------------------- ClientLink

    @Override
    public ByteBufAllocator alloc() {
        return client.alloc();
    }

    @Override
    public void write(ByteBuf bytes) {
        client.write(bytes, client.voidPromise());
    }

    @Override
    public void flush() {
        client.flush();
    }

    @Override
    public boolean isWritable() {
        return client.isWritable();
    }

    @Override
    public void backendReadPaused() {
        backendReadPaused = true;
    }

    @Override
    public void fatal(String sqlState, String message) {
        if (state != State.CLOSED) {
            ClientErrors.fatal(client, sqlState, message);
        }
    }

    @Override
    public void close(ErrorResponse error) {
        ClientErrors.sendAndClose(client, error);
    }

    @Override
    public void fail(RuntimeException e) {
        ClientErrors.handle(client, e);
    }

    @Override
    public String describe() {
        return String.valueOf(client.remoteAddress());
    }

    // ---------------------------------------------------------------- cancel and signals

    @Override
    public void cancelRequested() {
        loop.execute(() -> {
            if (engine != null) {
                engine.cancel();
            }
        });
    }

    @Override
    public void terminateRequested() {
        loop.execute(() -> fatal(SqlState.ADMIN_SHUTDOWN, "terminating connection due to administrator command"));
    }

    @Override
    public String user() {
        return user;
    }

    @Override
    public boolean superuser() {
        return "on".equalsIgnoreCase(parts.clientParameters().get("is_superuser"));
    }

    /**
     * pg_cancel_backend / pg_terminate_backend of a process id pgrelay issued, with the server's
     * rule: a superuser may signal any session, others only sessions of their own user.
     */
    private LocalAnswerer.SignalOutcome signal(SessionEffect.SignalBackend signal) {
        CancelRegistry.Cancellable target = shared.cancels.session(Integer.parseInt(signal.processId().trim()));
        if (target == null) {
            return LocalAnswerer.SignalOutcome.GONE;
        }
        if (!superuser() && !target.user().equals(user())) {
            return LocalAnswerer.SignalOutcome.DENIED;
        }
        if (signal.signal() == SessionEffect.Signal.CANCEL) {
            target.cancelRequested();
        } else {
            target.terminateRequested();
        }
        return LocalAnswerer.SignalOutcome.DONE;
    }

    // ---------------------------------------------------------------- end of session

    /**
     * Shutdown: ends the session with 57P01 now if nothing of it is under way (or it is still
     * logging in), else after the ReadyForQuery that closes its transaction or statement.
     */
    void endAtBoundary() {
        endAtBoundary = true;
        if (state == State.CONNECTING || (state == State.READY && engine.atBoundary())) {
            ClientShutdown.end(client);
        }
    }

    /**
     * Shutdown timeout: a statement still running is cancelled on its server (so it stops, its
     * transaction rolls back and the backend is freed), then the session ends with 57P01.
     */
    void endNow() {
        if (engine != null && !engine.atBoundary()) {
            engine.cancel();
        }
        ClientShutdown.end(client);
    }

    @Override
    public void quiet() {
        if (endAtBoundary) {
            // After the current read: the ReadyForQuery is written and flushed before the error.
            loop.execute(() -> {
                if (state == State.READY && engine.atBoundary()) {
                    ClientShutdown.end(client);
                }
            });
        }
    }

    private void close() {
        cleanup();
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cleanup();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cleanup();
    }

    private void cleanup() {
        if (state == State.CLOSED) {
            return;
        }
        state = State.CLOSED;
        if (idleTimeout != null) {
            idleTimeout.stop();
        }
        shared.cancels.unregister(cancelKey);
        ByteBuf frame;
        while ((frame = waiting.pollFirst()) != null) {
            frame.release();
        }
        if (login != null) {
            login.abandon();
        }
        if (engine != null) {
            engine.close();
        } else {
            parts.backends().removeAll(backend -> backend.recycle(parts.resetQuery()));
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ClientErrors.handle(ctx.channel(), cause);
    }

    /** The client's transaction status as it was last told (for the console's SHOW CLIENTS). */
    public TransactionStatus transactionStatus() {
        return parts.transaction().status;
    }
}
