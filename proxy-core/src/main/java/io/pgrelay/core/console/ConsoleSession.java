package io.pgrelay.core.console;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.pgrelay.core.ops.ProxyView;
import io.pgrelay.protocol.PgProtocolException;
import io.pgrelay.protocol.SqlState;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.Messages;
import io.pgrelay.protocol.message.backend.AuthenticationOk;
import io.pgrelay.protocol.message.backend.EmptyQueryResponse;
import io.pgrelay.protocol.message.backend.ErrorResponse;
import io.pgrelay.protocol.message.backend.ParameterStatus;
import io.pgrelay.protocol.message.backend.ReadyForQuery;
import io.pgrelay.protocol.message.frontend.Query;
import io.pgrelay.protocol.message.frontend.StartupMessage;
import io.pgrelay.protocol.message.frontend.Terminate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The SQL admin console: the session of a client connected to the virtual database
 * {@code pgrelay}, in place of a {@code ClientSession}. It has no backend; it answers the
 * simple query protocol with result sets it builds (PgBouncer's console is the model).
 * Extended-protocol messages get a 0A000 error and are skipped up to Sync, as a server does
 * after an error. Commands that change the cluster block, so they run on the console's own
 * thread while the session reads nothing more; their answer is written back on the event loop.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-SIMPLE-QUERY">Simple query</a>
 */
public final class ConsoleSession extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ConsoleSession.class);

    /**
     * Cluster operations, one at a time for the whole proxy: they change shared state and
     * must not overlap. Daemon threads that time out, so nothing needs shutting down.
     */
    private static final ExecutorService OPERATIONS;

    static {
        AtomicInteger threads = new AtomicInteger();
        ThreadPoolExecutor executor = new ThreadPoolExecutor(1, 1, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                task -> {
                    Thread thread = new Thread(task, "pgrelay-console-" + threads.incrementAndGet());
                    thread.setDaemon(true);
                    return thread;
                });
        executor.allowCoreThreadTimeOut(true);
        OPERATIONS = executor;
    }

    private final StartupMessage startup;
    private final Consumer<String> applicationName;
    private final ConsoleCommands commands;
    /** Frames that arrived while a command ran; owned here until processed or released. */
    private final ArrayDeque<ByteBuf> waiting = new ArrayDeque<>();
    private ChannelHandlerContext ctx;
    private String actor;
    /** Statements of the current Query still to run. */
    private List<String> statements;
    private int next;
    private boolean busy;
    /** After an extended-protocol error: skip messages until Sync. */
    private boolean skipToSync;
    private boolean closed;

    /**
     * A console over {@code proxy} for the client that logged in with {@code startup};
     * {@code applicationName} is told what a {@code SET application_name} names the session.
     */
    public ConsoleSession(ProxyView proxy, StartupMessage startup, Consumer<String> applicationName) {
        this.startup = startup;
        this.applicationName = applicationName;
        this.commands = new ConsoleCommands(proxy);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.actor = "console:" + startup.user() + "@" + ctx.channel().remoteAddress();
        log.info("admin console session for {} from {}", startup.user(), ctx.channel().remoteAddress());
        ByteBuf out = ctx.alloc().buffer(256);
        AuthenticationOk.INSTANCE.encode(out);
        String applicationName = startup.parameters().get("application_name");
        for (Map.Entry<String, String> parameter : Map.of(
                "server_version", "16.0 (pgrelay " + ConsoleCommands.VERSION + " admin console)",
                "server_encoding", "UTF8",
                "client_encoding", "UTF8",
                "DateStyle", "ISO, MDY",
                "integer_datetimes", "on",
                "standard_conforming_strings", "on",
                "TimeZone", "UTC",
                "IntervalStyle", "postgres",
                "application_name", applicationName != null ? applicationName : "").entrySet()) {
            new ParameterStatus(parameter.getKey(), parameter.getValue()).encode(out);
        }
        ReadyForQuery.IDLE.encode(out);
        ctx.writeAndFlush(out, ctx.voidPromise());
        ctx.read();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        if (closed) {
            frame.release();
            return;
        }
        if (busy) {
            waiting.add(frame);
            return;
        }
        process(frame);
    }

    private void process(ByteBuf frame) {
        try {
            byte type = Wire.frameType(frame);
            switch (type) {
                case Query.TYPE -> onQuery(Query.decode(Wire.frameBody(frame)).sql());
                case Terminate.TYPE -> close();
                case 'S' -> { // Sync: the end of an extended-protocol batch
                    skipToSync = false;
                    ctx.writeAndFlush(Messages.encode(ctx.alloc(), ReadyForQuery.IDLE), ctx.voidPromise());
                }
                case 'H' -> ctx.flush(); // Flush
                case 'P', 'B', 'D', 'E', 'C' -> { // Parse, Bind, Describe, Execute, Close
                    if (!skipToSync) {
                        skipToSync = true;
                        ctx.write(Messages.encode(ctx.alloc(), ErrorResponse.error(SqlState.FEATURE_NOT_SUPPORTED,
                                "the pgrelay admin console speaks only the simple query protocol "
                                        + "(psql works; with pgjdbc use preferQueryMode=simple)")), ctx.voidPromise());
                    }
                }
                case 'F' -> { // FunctionCall: answered like a simple query
                    ByteBuf out = ctx.alloc().buffer(128);
                    ErrorResponse.error(SqlState.FEATURE_NOT_SUPPORTED,
                            "function calls are not supported by the pgrelay admin console").encode(out);
                    ReadyForQuery.IDLE.encode(out);
                    ctx.writeAndFlush(out, ctx.voidPromise());
                }
                case 'd', 'c', 'f' -> {
                    // CopyData, CopyDone, CopyFail outside COPY: ignored, as the server does
                }
                default -> throw PgProtocolException.violation("invalid frontend message type " + (type & 0xff));
            }
        } finally {
            frame.release();
        }
    }

    private void onQuery(String sql) {
        statements = ConsoleCommand.split(sql);
        next = 0;
        if (statements.isEmpty()) {
            ByteBuf out = ctx.alloc().buffer(16);
            EmptyQueryResponse.INSTANCE.encode(out);
            ReadyForQuery.IDLE.encode(out);
            ctx.writeAndFlush(out, ctx.voidPromise());
            return;
        }
        runStatements();
    }

    /** Runs the Query's statements in order; stops at the first error or at a command that must run off the loop. */
    private void runStatements() {
        ByteBuf out = ctx.alloc().buffer(1024);
        try {
            while (next < statements.size()) {
                String statement = statements.get(next++);
                ConsoleCommand command;
                try {
                    command = ConsoleCommand.parse(statement);
                    if (command.verb().mutating()) {
                        commands.operations(command);
                        ctx.writeAndFlush(out, ctx.voidPromise());
                        out = null;
                        runOperation(command);
                        return;
                    }
                    if (command.verb() == ConsoleCommand.Verb.SET_PARAMETER) {
                        setParameter(command, out);
                    }
                    commands.show(command).encode(out);
                } catch (ConsoleException e) {
                    e.toErrorResponse().encode(out);
                    statements = null;
                    break;
                }
            }
            ReadyForQuery.IDLE.encode(out);
            ctx.writeAndFlush(out, ctx.voidPromise());
            out = null;
        } finally {
            if (out != null) {
                out.release();
            }
        }
    }

    /** Only application_name means something here: it names the session in SHOW CLIENTS, and is reported back. */
    private void setParameter(ConsoleCommand command, ByteBuf out) {
        if ("application_name".equals(command.name()) && command.value() != null) {
            applicationName.accept(command.value());
            new ParameterStatus("application_name", command.value()).encode(out);
        }
    }

    private void runOperation(ConsoleCommand command) {
        busy = true;
        log.info("{}: {}", actor, command.verb().tag());
        OPERATIONS.execute(() -> {
            ConsoleResult result = null;
            ErrorResponse error = null;
            try {
                result = commands.mutate(command, actor);
            } catch (ConsoleException e) {
                error = e.toErrorResponse();
            } catch (RuntimeException e) {
                log.warn("{}: {} failed", actor, command.verb().tag(), e);
                error = ErrorResponse.error(SqlState.INTERNAL_ERROR, command.verb().tag() + " failed: " + e);
            }
            ConsoleResult done = result;
            ErrorResponse failed = error;
            ctx.executor().execute(() -> operationDone(done, failed));
        });
    }

    private void operationDone(ConsoleResult result, ErrorResponse error) {
        busy = false;
        if (closed) {
            return;
        }
        if (error != null) {
            ByteBuf out = ctx.alloc().buffer(256);
            error.encode(out);
            ReadyForQuery.IDLE.encode(out);
            ctx.writeAndFlush(out, ctx.voidPromise());
            statements = null;
        } else {
            ByteBuf out = ctx.alloc().buffer(256);
            result.encode(out);
            ctx.write(out, ctx.voidPromise());
            runStatements();
        }
        drainWaiting();
    }

    /** Processes frames that arrived during an operation, then reads on. */
    private void drainWaiting() {
        ByteBuf frame;
        while (!busy && !closed && (frame = waiting.pollFirst()) != null) {
            try {
                process(frame);
            } catch (RuntimeException e) {
                exceptionCaught(ctx, e);
                return;
            }
        }
        if (!busy && !closed) {
            ctx.read();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.flush();
        if (!busy && !closed) {
            ctx.read();
        }
    }

    private void close() {
        release();
        ctx.close();
    }

    private void release() {
        closed = true;
        ByteBuf frame;
        while ((frame = waiting.pollFirst()) != null) {
            frame.release();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        release();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        release();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        release();
        if (cause instanceof IOException) {
            ctx.close();
            return;
        }
        PgProtocolException protocol = cause instanceof PgProtocolException p ? p
                : cause.getCause() instanceof PgProtocolException p ? p : null;
        ErrorResponse error = protocol != null ? ErrorResponse.fatal(protocol.sqlState(), protocol.getMessage())
                : ErrorResponse.fatal(SqlState.INTERNAL_ERROR, "internal error in the pgrelay console: " + cause);
        if (protocol == null) {
            log.warn("console {}: unexpected error", ctx.channel().remoteAddress(), cause);
        }
        if (ctx.channel().isActive()) {
            ctx.writeAndFlush(Messages.encode(ctx.alloc(), error)).addListener(ChannelFutureListener.CLOSE);
        } else {
            ctx.close();
        }
    }
}
