package io.pgrelay.core.backend;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.pgrelay.core.net.RelayBuffers;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import io.pgrelay.core.config.ProxyConfig.BackendConfig;
import io.pgrelay.core.net.Transport;
import io.pgrelay.protocol.PgProtocolException;
import io.pgrelay.protocol.SqlState;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.auth.Md5Password;
import io.pgrelay.protocol.auth.NonceSource;
import io.pgrelay.protocol.auth.ScramClientSession;
import io.pgrelay.protocol.codec.FrameDecoder;
import io.pgrelay.protocol.message.FrontendMessage;
import io.pgrelay.protocol.message.Messages;
import io.pgrelay.protocol.message.backend.Authentication;
import io.pgrelay.protocol.message.backend.AuthenticationCleartextPassword;
import io.pgrelay.protocol.message.backend.AuthenticationMd5Password;
import io.pgrelay.protocol.message.backend.AuthenticationOk;
import io.pgrelay.protocol.message.backend.AuthenticationOther;
import io.pgrelay.protocol.message.backend.AuthenticationSasl;
import io.pgrelay.protocol.message.backend.AuthenticationSaslContinue;
import io.pgrelay.protocol.message.backend.AuthenticationSaslFinal;
import io.pgrelay.protocol.message.backend.BackendKeyData;
import io.pgrelay.protocol.message.backend.ErrorResponse;
import io.pgrelay.protocol.message.backend.NoticeResponse;
import io.pgrelay.protocol.message.backend.ParameterStatus;
import io.pgrelay.protocol.message.backend.ReadyForQuery;
import io.pgrelay.protocol.message.frontend.PasswordMessage;
import io.pgrelay.protocol.message.frontend.SaslInitialResponse;
import io.pgrelay.protocol.message.frontend.SaslResponse;
import io.pgrelay.protocol.message.frontend.SslRequest;
import io.pgrelay.protocol.message.frontend.StartupMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Opens and authenticates backend connections as a PostgreSQL client (SSL negotiation,
 * cleartext / md5 / SCRAM-SHA-256), on the event loop of the client that needs them. Each
 * connection takes the {@link BackendTls} in force when it starts, so a reload of the TLS files
 * reaches new connections and leaves open ones alone.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-START-UP">Start-up</a>
 */
public final class BackendConnector {
    private static final Logger log = LoggerFactory.getLogger(BackendConnector.class);
    private static final NonceSource NONCES = NonceSource.secureRandom(new SecureRandom());

    private final Transport transport;
    private final Supplier<BackendTls> tls;
    private final Duration connectTimeout;
    private final String applicationName;
    private final int maxMessageSize;
    private final BackendConfig config;
    private final ReplyDeadline.Faults silentServers;

    /** {@code silentServers}: told about servers that stop answering, when backend.query-timeout is on. */
    public BackendConnector(Transport transport, BackendConfig config, Supplier<BackendTls> tls, int maxMessageSize,
                            ReplyDeadline.Faults silentServers) {
        this.transport = transport;
        this.config = config;
        this.silentServers = silentServers;
        this.tls = tls;
        this.connectTimeout = config.connectTimeout();
        this.applicationName = config.applicationName();
        this.maxMessageSize = maxMessageSize;
    }

    /** Whether a pooled connection can be handed to a session on another event loop as it is. */
    boolean movesConnectionsBetweenLoops() {
        return transport.movesChannelsBetweenLoops();
    }

    /** Connects, authenticates and waits for the first ReadyForQuery. Never blocks. */
    public Future<BackendConnection> connect(EventLoop loop, String host, int port, PoolKey key, String password) {
        Promise<BackendConnection> promise = loop.newPromise();
        Bootstrap bootstrap = new Bootstrap()
                .group(loop)
                .channel(transport.clientChannel())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.ALLOCATOR, RelayBuffers.ALLOCATOR)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) connectTimeout.toMillis())
                .handler(new StartupHandler(key, host, port, tls.get(), password, promise));
        transport.readFromSharedBuffers(bootstrap);
        // The kernel's defaults notice a vanished server after more than two hours.
        transport.keepalive(bootstrap, (int) config.keepaliveIdle().toSeconds(),
                (int) config.keepaliveInterval().toSeconds(), config.keepaliveCount());
        ChannelFuture connected = bootstrap.connect(new InetSocketAddress(host, port));
        ScheduledFuture<?> timeout = loop.schedule(() -> {
            if (promise.tryFailure(BackendStartupException.connectionFailure("timeout connecting to " + key.nodeName()
                    + " (" + host + ":" + port + ") after " + connectTimeout.toMillis() + " ms"))) {
                connected.channel().close();
            }
        }, connectTimeout.toMillis(), TimeUnit.MILLISECONDS);
        promise.addListener(done -> timeout.cancel(false));
        connected.addListener(f -> {
            if (!f.isSuccess()) {
                promise.tryFailure(BackendStartupException.connectionFailure("could not connect to " + key.nodeName()
                        + " (" + host + ":" + port + "): " + f.cause().getMessage()));
            }
        });
        return promise;
    }

    /** Drives one connection from TCP connect to the first ReadyForQuery, then steps aside. */
    private final class StartupHandler extends ChannelInboundHandlerAdapter {
        private final PoolKey key;
        private final String host;
        private final int port;
        private final BackendTls tls;
        private final String password;
        private final Promise<BackendConnection> promise;
        private final Map<String, String> parameters = new LinkedHashMap<>();
        private boolean awaitingSslReply;
        private ScramClientSession scram;
        private int processId;
        private int secretKey;

        StartupHandler(PoolKey key, String host, int port, BackendTls tls, String password,
                       Promise<BackendConnection> promise) {
            this.key = key;
            this.host = host;
            this.port = port;
            this.tls = tls;
            this.password = password;
            this.promise = promise;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            if (tls.mode().requested()) {
                awaitingSslReply = true;
                ctx.writeAndFlush(Messages.encode(ctx.alloc(), SslRequest.INSTANCE));
            } else {
                sendStartup(ctx);
            }
            ctx.read();
        }

        private void sendStartup(ChannelHandlerContext ctx) {
            ctx.pipeline().addBefore(ctx.name(), "frames", new FrameDecoder(maxMessageSize));
            Map<String, String> startup = new LinkedHashMap<>();
            startup.put("user", key.user());
            startup.put("database", key.database());
            startup.put("application_name", applicationName);
            ctx.writeAndFlush(Messages.encode(ctx.alloc(), new StartupMessage(StartupMessage.PROTOCOL_3_0, startup)));
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            try {
                if (awaitingSslReply) {
                    handleSslReply(ctx, buf);
                } else {
                    handleFrame(ctx, buf);
                }
            } catch (PgProtocolException e) {
                fail(ctx, BackendStartupException.of(e.sqlState(), "backend " + key.nodeName() + ": " + e.getMessage()));
            } finally {
                buf.release();
            }
        }

        private void handleSslReply(ChannelHandlerContext ctx, ByteBuf buf) {
            awaitingSslReply = false;
            byte reply = buf.readByte();
            if (buf.isReadable()) {
                throw PgProtocolException.violation("unexpected data after the SSL response");
            }
            if (reply == 'S') {
                // The node's configured host is the name verify-full checks (an IP address: an IP SAN).
                SslHandler ssl = tls.context().newHandler(ctx.alloc(), host, port);
                ctx.pipeline().addFirst("tls", ssl);
                ssl.handshakeFuture().addListener(done -> {
                    if (done.isSuccess()) {
                        sendStartup(ctx);
                        ctx.read();
                    } else {
                        handshakeFailed(ctx, done.cause());
                    }
                });
            } else if (reply == 'N' && !tls.mode().required()) {
                sendStartup(ctx);
            } else if (reply == 'N') {
                fail(ctx, new BackendTlsRefusedException("backend " + key.nodeName()
                        + " does not accept TLS, and backend.tls is " + tls.mode().configName()));
            } else {
                throw PgProtocolException.violation("invalid response to SSL negotiation: " + (char) reply);
            }
        }

        /** A certificate that fails verification stays wrong; anything else (a dropped connection) may pass. */
        private void handshakeFailed(ChannelHandlerContext ctx, Throwable cause) {
            String message = "TLS handshake with " + key.nodeName() + " (" + host + ":" + port
                    + ") failed under backend.tls " + tls.mode().configName() + ": " + rootMessage(cause);
            log.warn("{}", message);
            fail(ctx, causedBy(cause, CertificateException.class)
                    ? new BackendTlsRefusedException(message) : BackendStartupException.connectionFailure(message));
        }

        private static boolean causedBy(Throwable cause, Class<? extends Throwable> type) {
            for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
                if (type.isInstance(t)) {
                    return true;
                }
            }
            return false;
        }

        /** The certificate check's own words ("No subject alternative names matching ..."), not its wrappers'. */
        private static String rootMessage(Throwable cause) {
            Throwable root = cause;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            return root.getMessage() != null ? root.getMessage() : root.toString();
        }

        private void handleFrame(ChannelHandlerContext ctx, ByteBuf frame) {
            byte type = Wire.frameType(frame);
            ByteBuf body = Wire.frameBody(frame);
            switch (type) {
                case Authentication.TYPE -> authenticate(ctx, Authentication.decode(body));
                case ParameterStatus.TYPE -> {
                    ParameterStatus status = ParameterStatus.decode(body);
                    parameters.put(status.name(), status.value());
                }
                case BackendKeyData.TYPE -> {
                    BackendKeyData keyData = BackendKeyData.decode(body);
                    processId = keyData.processId();
                    secretKey = keyData.secretKey();
                }
                case NoticeResponse.TYPE -> {
                    // Startup notices are of no use to a client that is not connected yet.
                }
                case ErrorResponse.TYPE -> fail(ctx, new BackendStartupException(ErrorResponse.decode(body)));
                case ReadyForQuery.TYPE -> ready(ctx, ReadyForQuery.decode(body));
                default -> throw PgProtocolException.violation("unexpected message type '" + (char) type
                        + "' during backend startup");
            }
        }

        private void authenticate(ChannelHandlerContext ctx, Object request) {
            if (request instanceof AuthenticationOk) {
                return;
            }
            if (request instanceof AuthenticationCleartextPassword) {
                send(ctx, new PasswordMessage(password));
            } else if (request instanceof AuthenticationMd5Password md5) {
                send(ctx, new PasswordMessage(new String(Md5Password.response(key.user(), password, md5.salt()),
                        java.nio.charset.StandardCharsets.US_ASCII)));
            } else if (request instanceof AuthenticationSasl sasl) {
                if (!sasl.mechanisms().contains("SCRAM-SHA-256")) {
                    throw new PgProtocolException(SqlState.FEATURE_NOT_SUPPORTED, "backend offers no supported SASL"
                            + " mechanism: " + sasl.mechanisms());
                }
                scram = new ScramClientSession(password, NONCES);
                send(ctx, new SaslInitialResponse("SCRAM-SHA-256", scram.clientFirstMessage()));
            } else if (request instanceof AuthenticationSaslContinue cont) {
                requireScram();
                send(ctx, new SaslResponse(scram.handleServerFirst(cont.data())));
            } else if (request instanceof AuthenticationSaslFinal fin) {
                requireScram();
                scram.handleServerFinal(fin.data());
            } else if (request instanceof AuthenticationOther other) {
                throw new PgProtocolException(SqlState.FEATURE_NOT_SUPPORTED, "backend " + key.nodeName()
                        + " asks for authentication method " + other.code() + ", which pgrelay does not support");
            } else {
                throw PgProtocolException.violation("unexpected authentication request " + request);
            }
        }

        private void requireScram() {
            if (scram == null) {
                throw PgProtocolException.violation("SASL continuation without a SASL exchange");
            }
        }

        private void send(ChannelHandlerContext ctx, FrontendMessage message) {
            ctx.writeAndFlush(Messages.encode(ctx.alloc(), message));
        }

        private void ready(ChannelHandlerContext ctx, ReadyForQuery readyForQuery) {
            Channel channel = ctx.channel();
            BackendConnection connection = new BackendConnection(channel, key, processId, secretKey, parameters,
                    readyForQuery.status(), maxMessageSize);
            if (!promise.trySuccess(connection)) {
                channel.close();
                return;
            }
            ChannelPipeline pipeline = ctx.pipeline();
            pipeline.replace(this, "backend", connection);
            pipeline.remove("frames");
            if (!config.queryTimeout().isZero()) {
                connection.watchReplies(config.queryTimeout().toNanos(), silentServers);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (!promise.isDone()) {
                ctx.read();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            promise.tryFailure(BackendStartupException.connectionFailure("backend " + key.nodeName()
                    + " closed the connection during startup"));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            fail(ctx, cause instanceof PgProtocolException p
                    ? BackendStartupException.of(p.sqlState(), "backend " + key.nodeName() + ": " + p.getMessage())
                    : BackendStartupException.connectionFailure("backend " + key.nodeName() + ": " + rootMessage(cause)));
        }

        private void fail(ChannelHandlerContext ctx, BackendStartupException error) {
            promise.tryFailure(error);
            ctx.close();
        }
    }
}
