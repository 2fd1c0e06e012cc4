package io.pgrelay.core.session;

import io.netty.buffer.Unpooled;
import java.util.concurrent.TimeUnit;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.pgrelay.core.auth.UserDirectory;
import io.pgrelay.core.config.AuthMethod;
import io.pgrelay.core.config.BackendTlsMode;
import io.pgrelay.core.config.ProxyConfig.AuthConfig;
import io.pgrelay.core.config.ProxyConfig.TlsConfig;
import io.pgrelay.core.config.ProxyConfig.UserConfig;
import io.pgrelay.core.config.ProxyConfig;
import io.pgrelay.core.config.TlsMode;
import io.pgrelay.core.metrics.ProxyMetrics;
import io.pgrelay.core.net.TlsContexts;
import io.pgrelay.core.testing.ChannelTesting.Frame;
import io.pgrelay.core.testing.ChannelTesting;
import io.pgrelay.protocol.SqlState;
import io.pgrelay.protocol.auth.ScramSha256;
import io.pgrelay.protocol.codec.FrameDecoder;
import io.pgrelay.protocol.codec.StartupPacketDecoder;
import io.pgrelay.protocol.message.backend.Authentication;
import io.pgrelay.protocol.message.backend.AuthenticationCleartextPassword;
import io.pgrelay.protocol.message.backend.AuthenticationSasl;
import io.pgrelay.protocol.message.backend.ErrorResponse;
import io.pgrelay.protocol.message.backend.NegotiateProtocolVersion;
import io.pgrelay.protocol.message.frontend.CancelRequest;
import io.pgrelay.protocol.message.frontend.GssEncRequest;
import io.pgrelay.protocol.message.frontend.PasswordMessage;
import io.pgrelay.protocol.message.frontend.SslRequest;
import io.pgrelay.protocol.message.frontend.StartupMessage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static io.pgrelay.core.testing.ChannelTesting.assertFatal;
import static io.pgrelay.core.testing.ChannelTesting.concat;
import static io.pgrelay.core.testing.ChannelTesting.drainFrames;
import static io.pgrelay.core.testing.ChannelTesting.drainOutbound;
import static io.pgrelay.core.testing.ChannelTesting.encode;
import static io.pgrelay.core.testing.ChannelTesting.frames;
import static io.pgrelay.core.testing.ChannelTesting.writeByteByByte;
import static io.pgrelay.core.testing.ChannelTesting.writeWhole;
import static io.pgrelay.testing.Bytes.prefix;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link ClientStartupHandler} behind a {@link StartupPacketDecoder}, as {@code ProxyServer}
 * builds the pipeline; every input is fed one byte at a time unless the case is about
 * bytes arriving together.
 */
class ClientStartupHandlerTest {
    private static final int PROTOCOL_3_2 = (3 << 16) | 2;
    private static final int PROTOCOL_4_0 = 4 << 16;

    private static final AuthConfig AUTH = new AuthConfig(AuthMethod.SCRAM_SHA_256, List.of(
            new UserConfig("alice", "secret", null, null, null),
            new UserConfig("paul", "secret", null, null, AuthMethod.PASSWORD)));
    /** Built once: it derives each user's SCRAM secret (PBKDF2). */
    private static final UserDirectory USERS = new UserDirectory(AUTH);

    private static SslContext serverSsl;

    private final CancelRegistry cancels = new CancelRegistry();
    private final AtomicInteger clientCount = new AtomicInteger();
    private final ProxyMetrics metrics = SessionTesting.metrics();
    private EmbeddedChannel channel;
    private EmbeddedChannel tlsClient;

    @BeforeAll
    static void selfSignedCertificate() {
        serverSsl = TlsContexts.forClients(new TlsConfig(TlsMode.PREFER, null, null));
    }

    @AfterEach
    void closeChannels() {
        if (tlsClient != null) {
            tlsClient.finishAndReleaseAll();
        }
        if (channel != null) {
            channel.finishAndReleaseAll();
        }
    }

    /** Opens a connection to a proxy with this TLS and connection limit, whose sessions end with 57P03. */
    private EmbeddedChannel open(ClientAdmission.Tls tls, int maxClients) {
        ClientAdmission admission = new ClientAdmission(tls, maxClients, SessionTesting.MAX_MESSAGE_BYTES, cancels,
                clientCount, metrics);
        ClientLogin login = new ClientLogin(USERS, AuthMethod.SCRAM_SHA_256, List.of(), new ClientRegistry(), metrics,
                SessionTesting.realSessions(SessionTesting.sessions(cancels)));
        channel = new EmbeddedChannel(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast("startup", new StartupPacketDecoder());
                ch.pipeline().addLast("client-startup", new ClientStartupHandler(admission, login));
            }
        });
        return channel;
    }

    private EmbeddedChannel open() {
        return open(ClientAdmission.Tls.OFF, 100);
    }

    private static byte[] startup(int protocol, String... nameValues) {
        Map<String, String> parameters = new LinkedHashMap<>();
        for (int i = 0; i < nameValues.length; i += 2) {
            parameters.put(nameValues[i], nameValues[i + 1]);
        }
        return encode(new StartupMessage(protocol, parameters));
    }

    private static byte[] startup(String... nameValues) {
        return startup(StartupMessage.PROTOCOL_3_0, nameValues);
    }

    private static void assertSaslRequest(Frame frame) {
        assertThat(frame.typeChar()).isEqualTo('R');
        assertThat(frame.decode(Authentication::decode))
                .isEqualTo(new AuthenticationSasl(List.of(ScramSha256.MECHANISM)));
    }

    /** The channel ended: nothing left to read or write, and no buffer left behind. */
    private void assertEnded() {
        assertThat(channel.isOpen()).as("channel open").isFalse();
        assertThat(channel.finish()).as("messages left in the channel").isFalse();
    }

    // ---- encryption requests ----

    @Test
    void sslRequestWithTlsDisabledIsAnsweredNAndTheStartupGoesOn() {
        open();

        writeByteByByte(channel, encode(SslRequest.INSTANCE));
        assertThat(drainOutbound(channel)).containsExactly('N');
        assertThat(channel.isOpen()).isTrue();
        assertThat(channel.pipeline().get(SslHandler.class)).isNull();

        writeByteByByte(channel, startup("user", "alice", "database", "shop"));
        List<Frame> frames = drainFrames(channel);
        assertThat(frames).hasSize(1);
        assertSaslRequest(frames.get(0));
        assertThat(channel.pipeline().get("auth")).isInstanceOf(ClientAuthHandler.class);
    }

    @Test
    void sslRequestWithTlsEnabledIsAnsweredSAndTlsStartsFirstInThePipeline() {
        open(new ClientAdmission.Tls(TlsMode.PREFER, serverSsl), 100);

        writeByteByByte(channel, encode(SslRequest.INSTANCE));
        assertThat(drainOutbound(channel)).containsExactly('S');
        assertThat(channel.pipeline().first()).isInstanceOf(SslHandler.class);
        assertThat(channel.pipeline().names().get(0)).isEqualTo("tls");

        // A real TLS client completes the handshake; the StartupMessage then travels encrypted.
        SslContext clientSsl = TlsContexts.forBackends(new ProxyConfig.BackendConfig(BackendTlsMode.REQUIRE,
                null, null, null, null, null, null));
        tlsClient = new EmbeddedChannel(clientSsl.newHandler(ByteBufAllocator.DEFAULT));
        shuttle(tlsClient, channel);
        assertThat(tlsClient.pipeline().get(SslHandler.class).handshakeFuture().isSuccess()).isTrue();

        tlsClient.writeOutbound(ChannelTesting.buffer(tlsClient, startup("user", "alice")));
        shuttle(tlsClient, channel);
        List<Frame> frames = frames(readInbound(tlsClient));
        assertThat(frames).hasSize(1);
        assertSaslRequest(frames.get(0));
        assertThat(channel.pipeline().names()).startsWith("tls", "frames", "auth");
    }

    @Test
    void gssEncRequestIsAnsweredNAndTheStartupGoesOn() {
        open();

        writeByteByByte(channel, encode(GssEncRequest.INSTANCE));
        assertThat(drainOutbound(channel)).containsExactly('N');
        assertThat(channel.isOpen()).isTrue();

        // libpq falls back to SSL, then to a plain StartupMessage.
        writeByteByByte(channel, encode(SslRequest.INSTANCE));
        assertThat(drainOutbound(channel)).containsExactly('N');
        writeByteByByte(channel, startup("user", "alice"));
        assertSaslRequest(drainFrames(channel).get(0));
    }

    @Test
    void bytesSentRightAfterAnSslRequestAreRefused() {
        open();

        writeWhole(channel, concat(encode(SslRequest.INSTANCE), startup("user", "alice")));

        List<Frame> frames = drainFrames(channel);
        assertThat(frames).hasSize(1);
        assertThat(assertFatal(frames.get(0), SqlState.PROTOCOL_VIOLATION).message())
                .isEqualTo("received unencrypted data after SSL request");
        assertEnded();
    }

    @Test
    void tlsRequiredRefusesAPlainStartup() {
        open(new ClientAdmission.Tls(TlsMode.REQUIRE, serverSsl), 100);

        writeByteByByte(channel, startup("user", "alice"));

        List<Frame> frames = drainFrames(channel);
        assertThat(frames).hasSize(1);
        assertThat(assertFatal(frames.get(0), SqlState.INVALID_AUTHORIZATION_SPECIFICATION).message())
                .contains("requires SSL");
        assertEnded();
    }

    // ---- cancel requests ----

    private static CancelRegistry.Cancellable counting(AtomicInteger cancels) {
        return new CancelRegistry.Cancellable() {
            @Override
            public void cancelRequested() {
                cancels.incrementAndGet();
            }

            @Override
            public void terminateRequested() {
            }

            @Override
            public String user() {
                return "app";
            }

            @Override
            public boolean superuser() {
                return false;
            }
        };
    }

    @Test
    void cancelRequestReachesTheSessionAndCloses() {
        AtomicInteger cancelled = new AtomicInteger();
        CancelRegistry.Key key = cancels.register(counting(cancelled));
        open();

        writeByteByByte(channel, encode(new CancelRequest(key.processId(), key.secretKey())));

        assertThat(cancelled).hasValue(1);
        assertThat(drainOutbound(channel)).isEmpty();
        assertThat(clientCount).hasValue(0);
        assertEnded();
    }

    @Test
    void cancelRequestWithAnUnknownKeyOnlyCloses() {
        AtomicInteger cancelled = new AtomicInteger();
        CancelRegistry.Key key = cancels.register(counting(cancelled));
        open();

        writeByteByByte(channel, encode(new CancelRequest(key.processId(), key.secretKey() + 1)));

        assertThat(cancelled).hasValue(0);
        assertThat(cancels.size()).isEqualTo(1);
        assertThat(drainOutbound(channel)).isEmpty();
        assertEnded();
    }

    // ---- StartupMessage checks ----

    @Test
    void startupWithoutUserIsRefused() {
        open();

        writeByteByByte(channel, startup("database", "shop"));

        List<Frame> frames = drainFrames(channel);
        assertThat(frames).hasSize(1);
        assertThat(assertFatal(frames.get(0), SqlState.INVALID_AUTHORIZATION_SPECIFICATION).message())
                .isEqualTo("no PostgreSQL user name specified in startup packet");
        assertEnded();
        assertThat(clientCount).hasValue(0);
    }

    @Test
    void protocol4IsNotSupported() {
        open();

        writeByteByByte(channel, startup(PROTOCOL_4_0, "user", "alice"));

        List<Frame> frames = drainFrames(channel);
        assertThat(frames).hasSize(1);
        assertThat(assertFatal(frames.get(0), SqlState.FEATURE_NOT_SUPPORTED).message())
                .startsWith("unsupported frontend protocol 4.0");
        assertEnded();
    }

    @ParameterizedTest
    @ValueSource(strings = {"database", "true", "on"})
    void replicationConnectionsAreNotSupported(String replication) {
        open();

        writeByteByByte(channel, startup("user", "alice", "replication", replication));

        List<Frame> frames = drainFrames(channel);
        assertThat(frames).hasSize(1);
        assertThat(assertFatal(frames.get(0), SqlState.FEATURE_NOT_SUPPORTED).message())
                .contains("replication connections are not supported");
        assertEnded();
        assertThat(clientCount).hasValue(0);
    }

    @Test
    void replicationFalseIsAnOrdinaryConnection() {
        open();

        writeByteByByte(channel, startup("user", "alice", "replication", "false"));

        assertSaslRequest(drainFrames(channel).get(0));
        assertThat(channel.isOpen()).isTrue();
    }

    @Test
    void newerMinorProtocolIsNegotiatedDownFirst() {
        open();

        writeByteByByte(channel, startup(PROTOCOL_3_2, "user", "alice"));

        List<Frame> frames = drainFrames(channel);
        assertThat(frames).extracting(Frame::typeChar).containsExactly('v', 'R');
        assertThat(frames.get(0).decode(NegotiateProtocolVersion::decode))
                .isEqualTo(new NegotiateProtocolVersion(0, List.of()));
        assertSaslRequest(frames.get(1));
        assertThat(channel.isOpen()).isTrue();
    }

    @Test
    void protocolOptionsAreReportedUnrecognizedFirst() {
        open();

        writeByteByByte(channel, startup("user", "alice", "_pq_.x", "1", "application_name", "psql"));

        List<Frame> frames = drainFrames(channel);
        assertThat(frames).extracting(Frame::typeChar).containsExactly('v', 'R');
        assertThat(frames.get(0).decode(NegotiateProtocolVersion::decode))
                .isEqualTo(new NegotiateProtocolVersion(0, List.of("_pq_.x")));
        assertSaslRequest(frames.get(1));
    }

    @Test
    void tooManyClientsIsRefusedAndTheCountRestored() {
        clientCount.set(3);
        open(ClientAdmission.Tls.OFF, 3);

        writeByteByByte(channel, startup("user", "alice"));

        List<Frame> frames = drainFrames(channel);
        assertThat(frames).hasSize(1);
        assertThat(assertFatal(frames.get(0), SqlState.TOO_MANY_CONNECTIONS).message())
                .isEqualTo("sorry, too many clients already");
        assertEnded();
        assertThat(clientCount).hasValue(3);
        assertThat(metrics.clientsRefused()).isEqualTo(1);
        assertThat(metrics.clientsAccepted()).isZero();
    }

    // ---- the startup deadline (slow-loris) ----

    @Test
    void aClientThatSendsNothingIsClosedSilentlyAtTheStartupTimeout() {
        open();

        channel.advanceTimeBy(9, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();
        assertThat(channel.isOpen()).isTrue();
        channel.advanceTimeBy(1, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();

        assertThat(drainFrames(channel)).isEmpty();
        assertEnded();
    }

    @Test
    void halfAStartupPacketIsClosedAtTheStartupTimeout() {
        open();
        byte[] startup = startup("user", "alice", "database", "shop");
        channel.writeInbound(Unpooled.wrappedBuffer(startup, 0, startup.length / 2));

        channel.advanceTimeBy(10, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();

        assertThat(drainFrames(channel)).isEmpty();
        assertEnded();
    }

    @Test
    void aClientStalledInAuthenticationGetsQueryCanceledAtTheStartupTimeout() {
        open();
        channel.writeInbound(Unpooled.wrappedBuffer(startup("user", "alice", "database", "shop")));
        assertSaslRequest(drainFrames(channel).get(0));

        channel.advanceTimeBy(10, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();

        List<Frame> frames = drainFrames(channel);
        assertThat(frames).hasSize(1);
        assertThat(frames.get(0).typeChar()).isEqualTo('E');
        ErrorResponse error = frames.get(0).decode(ErrorResponse::decode);
        assertThat(error.sqlState()).isEqualTo(SqlState.QUERY_CANCELED);
        assertThat(error.message()).isEqualTo("canceling authentication due to timeout");
        assertThat(error.isFatal()).isTrue();
        assertEnded();
        assertThat(clientCount).hasValue(0);
    }

    @Test
    void validStartupHandsOverToFramesAndAuthentication() {
        open();

        writeByteByByte(channel, startup("user", "alice", "database", "shop"));

        assertThat(channel.pipeline().get("frames")).isInstanceOf(FrameDecoder.class);
        assertThat(channel.pipeline().get("auth")).isInstanceOf(ClientAuthHandler.class);
        assertThat(channel.pipeline().get("startup")).isNull();
        assertThat(channel.pipeline().get("client-startup")).isNull();
        assertThat(channel.pipeline().names()).startsWith("frames", "auth");
        assertSaslRequest(drainFrames(channel).get(0));
        assertThat(clientCount).hasValue(1);
        assertThat(metrics.clientsAccepted()).isEqualTo(1);

        assertThat(channel.finish()).isFalse();
        assertThat(clientCount).hasValue(0);
    }

    @Test
    void passwordPipelinedBehindTheStartupReachesAuthentication() {
        open();
        byte[] startup = startup("user", "paul");

        // The StartupMessage byte by byte, its last byte together with the password.
        writeByteByByte(channel, prefix(startup, startup.length - 1));
        assertThat(drainOutbound(channel)).isEmpty();
        writeWhole(channel, concat(new byte[] {startup[startup.length - 1]}, encode(new PasswordMessage("wrong"))));

        List<Frame> frames = drainFrames(channel);
        assertThat(frames).hasSize(2);
        assertThat(frames.get(0).decode(Authentication::decode)).isSameAs(AuthenticationCleartextPassword.INSTANCE);
        assertThat(assertFatal(frames.get(1), SqlState.INVALID_PASSWORD).message())
                .isEqualTo("password authentication failed for user \"paul\"");
        assertEnded();
    }

    @Test
    void startupAndPasswordInOneWriteGetPastAuthentication() {
        open();
        SessionTesting.PipelineProbe probe = new SessionTesting.PipelineProbe();
        channel.pipeline().addFirst("probe", probe);

        writeWhole(channel, concat(startup("user", "paul"), encode(new PasswordMessage("secret"))));

        List<Frame> frames = drainFrames(channel);
        assertThat(frames).hasSize(2);
        assertThat(frames.get(0).decode(Authentication::decode)).isSameAs(AuthenticationCleartextPassword.INSTANCE);
        // Authenticated: the session takes over and finds no primary in this test's cluster.
        ErrorResponse error = assertFatal(frames.get(1), SqlState.CANNOT_CONNECT_NOW);
        assertThat(error.message()).isEqualTo("no primary node is available");
        assertThat(probe.pipelineAtWrite.get(1)).contains("session").doesNotContain("auth", "client-startup");
        assertEnded();
        assertThat(clientCount).hasValue(0);
        assertThat(cancels.size()).isZero();
    }

    // ---- TLS plumbing ----

    /** Moves bytes both ways between two channels until neither has anything more to say. */
    private static void shuttle(EmbeddedChannel a, EmbeddedChannel b) {
        boolean moved;
        do {
            moved = move(a, b) | move(b, a);
        } while (moved);
    }

    private static boolean move(EmbeddedChannel from, EmbeddedChannel to) {
        boolean moved = false;
        Object message;
        while ((message = from.readOutbound()) != null) {
            to.writeInbound(message);
            moved = true;
        }
        return moved;
    }

    /** The decrypted bytes a TLS client received, concatenated; buffers released. */
    private static byte[] readInbound(EmbeddedChannel client) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuf buf;
        while ((buf = client.readInbound()) != null) {
            try {
                out.writeBytes(ByteBufUtil.getBytes(buf));
            } finally {
                buf.release();
            }
        }
        return out.toByteArray();
    }
}
