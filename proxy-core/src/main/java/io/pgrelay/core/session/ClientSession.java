package io.pgrelay.core.session;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.pgrelay.core.ProxyContext;
import io.pgrelay.core.auth.ClientCredentials;
import io.pgrelay.core.backend.BackendConnection;
import io.pgrelay.core.backend.BackendListener;
import io.pgrelay.core.backend.BackendPool;
import io.pgrelay.core.backend.BackendStartupException;
import io.pgrelay.core.cluster.NodeStatus;
import io.pgrelay.protocol.PgProtocolException;
import io.pgrelay.protocol.SqlState;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.Messages;
import io.pgrelay.protocol.message.backend.AuthenticationOk;
import io.pgrelay.protocol.message.backend.BackendKeyData;
import io.pgrelay.protocol.message.backend.ErrorResponse;
import io.pgrelay.protocol.message.backend.Fields;
import io.pgrelay.protocol.message.backend.ParameterStatus;
import io.pgrelay.protocol.message.backend.ReadyForQuery;
import io.pgrelay.protocol.message.backend.ReadyForQuery.TransactionStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One authenticated client: completes the login on a backend, then relays the client's
 * frames to the backend serving it and the backend's bytes back, with backpressure both
 * ways (a side is read only while the other can take more).
 *
 * <p>All state is confined to the client's event loop; backends are opened on the same
 * loop, so no locks are needed.
 */
public final class ClientSession extends ChannelInboundHandlerAdapter
        implements BackendListener, CancelRegistry.Cancellable {
    private static final Logger log = LoggerFactory.getLogger(ClientSession.class);

    private enum State { CONNECTING, READY, CLOSED }

    private final ProxyContext context;
    private final String user;
    private final String database;
    private final String backendUser;
    private final String backendPassword;
    private final StartupOptions options;
    private final ArrayDeque<ByteBuf> waiting = new ArrayDeque<>();

    private ChannelHandlerContext ctx;
    private Channel client;
    private EventLoop loop;
    private CancelRegistry.Key cancelKey;
    private State state = State.CONNECTING;
    private BackendConnection primary;
    private BackendConnection active;
    private TransactionStatus transactionStatus = TransactionStatus.IDLE;
    /** Extended-protocol messages were sent since the last Sync. */
    private boolean extendedOpen;
    private boolean backendNeedsFlush;
    private boolean clientReadPaused;
    private boolean backendReadPaused;

    ClientSession(ProxyContext context, io.pgrelay.protocol.message.frontend.StartupMessage startup,
                  ClientCredentials credentials) {
        this.context = context;
        this.user = startup.user();
        this.database = startup.database();
        this.backendUser = credentials != null ? credentials.backendUser() : user;
        this.backendPassword = credentials != null ? credentials.backendPassword() : null;
        this.options = StartupOptions.parse(startup.parameters());
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.client = ctx.channel();
        this.loop = ctx.channel().eventLoop();
        this.cancelKey = context.cancels().register(this);
        connectPrimary();
    }

    // ---- login ----

    private void connectPrimary() {
        NodeStatus node = context.cluster().current().primary();
        if (node == null) {
            fatal(SqlState.CANNOT_CONNECT_NOW, "no primary node is available");
            return;
        }
        BackendPool pool = context.pools().pool(node, backendUser, database, backendPassword);
        Future<BackendConnection> acquired = pool.acquire(loop);
        acquired.addListener(done -> onPrimaryAcquired(acquired));
    }

    private void onPrimaryAcquired(Future<BackendConnection> future) {
        if (!future.isSuccess()) {
            if (state != State.CLOSED) {
                failLogin(future.cause());
            }
            return;
        }
        BackendConnection backend = future.getNow();
        if (state == State.CLOSED) {
            backend.recycle(context.config().pool().resetQuery());
            return;
        }
        if (backend.isHotStandby()) {
            // The monitor's view is stale: this node was demoted or never was primary.
            log.warn("{} reports in_hot_standby=on although it was taken for the primary", backend);
            backend.close();
            context.monitor().probeSoon(backend.key().nodeIndex());
            fatal(SqlState.CANNOT_CONNECT_NOW, "the primary is changing; please retry");
            return;
        }
        primary = backend;
        active = backend;
        backend.attach(this);
        String settings = SqlLiterals.setConfig(settingsToApply(backend).entrySet());
        if (settings == null) {
            completeLogin();
            return;
        }
        backend.writeInternalQuery(settings, (b, error) -> {
            if (state == State.CLOSED) {
                return;
            }
            if (error != null) {
                ClientErrors.sendAndClose(client, asFatal(error));
            } else {
                completeLogin();
            }
        });
        backend.flush();
    }

    /** Client settings the backend does not already have (reported parameters compared by value). */
    private Map<String, String> settingsToApply(BackendConnection backend) {
        Map<String, String> result = new LinkedHashMap<>();
        for (Map.Entry<String, String> setting : options.settings().entrySet()) {
            String current = backend.parameters().get(setting.getKey());
            if (!setting.getValue().equals(current)) {
                result.put(setting.getKey(), setting.getValue());
            }
        }
        return result;
    }

    private void failLogin(Throwable cause) {
        if (cause instanceof BackendStartupException startup) {
            log.info("client {}: login to the backend failed: {}", client.remoteAddress(), startup.getMessage());
            ClientErrors.sendAndClose(client, asFatal(startup.error()));
        } else {
            fatal(SqlState.CONNECTION_FAILURE, "could not connect to the primary: " + cause.getMessage());
        }
    }

    private void completeLogin() {
        client.write(Messages.encode(client.alloc(), AuthenticationOk.INSTANCE), client.voidPromise());
        for (Map.Entry<String, String> parameter : primary.parameters().entrySet()) {
            client.write(Messages.encode(client.alloc(), new ParameterStatus(parameter.getKey(), parameter.getValue())),
                    client.voidPromise());
        }
        client.write(Messages.encode(client.alloc(), new BackendKeyData(cancelKey.processId(), cancelKey.secretKey())),
                client.voidPromise());
        client.writeAndFlush(Messages.encode(client.alloc(), ReadyForQuery.IDLE), client.voidPromise());
        state = State.READY;
        try {
            ByteBuf frame;
            while (state == State.READY && (frame = waiting.pollFirst()) != null) {
                handleFrame(frame);
            }
        } catch (RuntimeException e) {
            ClientErrors.handle(client, e);
            return;
        }
        flushBackend();
        readClient();
    }

    private static ErrorResponse asFatal(ErrorResponse error) {
        if (error.isFatal()) {
            return error;
        }
        Fields fields = error.fields().with(Fields.SEVERITY, "FATAL").with(Fields.SEVERITY_NON_LOCALIZED, "FATAL");
        return new ErrorResponse(fields);
    }

    // ---- client -> backend ----

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        if (state == State.READY) {
            handleFrame(frame);
        } else if (state == State.CONNECTING) {
            waiting.addLast(frame);
        } else {
            frame.release();
        }
    }

    private void handleFrame(ByteBuf frame) {
        byte type = Wire.frameType(frame);
        switch (type) {
            case 'Q', 'F', 'd', 'c', 'f' -> send(frame, type);
            case 'P', 'B', 'E', 'D', 'C', 'H' -> {
                extendedOpen = true;
                send(frame, type);
            }
            case 'S' -> {
                extendedOpen = false;
                send(frame, type);
            }
            case 'X' -> {
                frame.release();
                close();
            }
            case 'p' -> {
                frame.release();
                throw PgProtocolException.violation("unexpected password message after authentication");
            }
            default -> {
                frame.release();
                throw PgProtocolException.violation("invalid frontend message type " + (type & 0xff));
            }
        }
    }

    private void send(ByteBuf frame, byte type) {
        BackendConnection backend = active;
        if (backend == null || !backend.isUsable()) {
            frame.release();
            fatal(SqlState.CONNECTION_FAILURE, "the connection to the database server was lost");
            return;
        }
        backend.writeClientFrame(frame);
        backendNeedsFlush = true;
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        flushBackend();
        if (state == State.READY) {
            readClient();
        }
    }

    private void flushBackend() {
        if (backendNeedsFlush && active != null) {
            backendNeedsFlush = false;
            active.flush();
        }
    }

    /** Reads more from the client only while the backend can take it. */
    private void readClient() {
        if (active != null && !active.channel().isWritable()) {
            clientReadPaused = true;
        } else {
            clientReadPaused = false;
            ctx.read();
        }
    }

    @Override
    public void onBackendWritabilityChanged(BackendConnection backend, boolean writable) {
        if (writable && clientReadPaused && backend == active && state == State.READY) {
            clientReadPaused = false;
            ctx.read();
        }
    }

    // ---- backend -> client ----

    @Override
    public void onBackendData(BackendConnection backend, ByteBuf bytes) {
        client.write(bytes, client.voidPromise());
    }

    @Override
    public void onBackendReadComplete(BackendConnection backend) {
        client.flush();
        if (client.isWritable()) {
            backend.requestRead();
        } else {
            backendReadPaused = true;
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (client.isWritable() && backendReadPaused) {
            backendReadPaused = false;
            if (active != null) {
                active.requestRead();
            }
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void onBackendReady(BackendConnection backend, TransactionStatus status, boolean idle) {
        transactionStatus = status;
    }

    @Override
    public void onBackendClosed(BackendConnection backend, String reason) {
        if (backend == primary) {
            primary = null;
        }
        if (backend == active) {
            active = null;
        }
        if (state != State.CLOSED) {
            fatal(SqlState.CONNECTION_FAILURE, "the connection to the database server was lost: " + reason);
        }
    }

    // ---- cancel ----

    @Override
    public void cancelRequested() {
        loop.execute(() -> {
            BackendConnection backend = active;
            if (backend != null && !backend.isIdle() && backend.isUsable()) {
                InetSocketAddress address = backend.remoteAddress();
                context.cancelSender().send(loop, address.getHostString(), address.getPort(), backend.processId(),
                        backend.secretKey());
            }
        });
    }

    // ---- end of session ----

    private void fatal(String sqlState, String message) {
        if (state == State.CLOSED) {
            return;
        }
        ClientErrors.fatal(client, sqlState, message);
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
        context.cancels().unregister(cancelKey);
        ByteBuf frame;
        while ((frame = waiting.pollFirst()) != null) {
            frame.release();
        }
        BackendConnection backend = primary;
        primary = null;
        active = null;
        if (backend != null) {
            if (extendedOpen) {
                backend.close();
            } else {
                backend.recycle(context.config().pool().resetQuery());
            }
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ClientErrors.handle(ctx.channel(), cause);
    }

    public TransactionStatus transactionStatus() {
        return transactionStatus;
    }
}
