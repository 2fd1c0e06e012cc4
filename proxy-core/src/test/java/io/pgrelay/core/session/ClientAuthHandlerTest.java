package io.pgrelay.core.session;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.embedded.EmbeddedChannel;
import io.pgrelay.core.auth.UserDirectory;
import io.pgrelay.core.config.AuthMethod;
import io.pgrelay.core.config.ProxyConfig.AuthConfig;
import io.pgrelay.core.config.ProxyConfig.UserConfig;
import io.pgrelay.core.metrics.ProxyMetrics;
import io.pgrelay.core.session.SessionTesting.RecordingHandlers;
import io.pgrelay.core.session.SessionTesting.RecordingHandlers.Handover;
import io.pgrelay.core.testing.ChannelTesting.Frame;
import io.pgrelay.protocol.SqlState;
import io.pgrelay.protocol.auth.Md5Password;
import io.pgrelay.protocol.auth.NonceSource;
import io.pgrelay.protocol.auth.ScramClientSession;
import io.pgrelay.protocol.auth.ScramSha256;
import io.pgrelay.protocol.codec.FrameDecoder;
import io.pgrelay.protocol.message.FrontendMessage;
import io.pgrelay.protocol.message.backend.Authentication;
import io.pgrelay.protocol.message.backend.AuthenticationCleartextPassword;
import io.pgrelay.protocol.message.backend.AuthenticationMd5Password;
import io.pgrelay.protocol.message.backend.AuthenticationSasl;
import io.pgrelay.protocol.message.backend.AuthenticationSaslContinue;
import io.pgrelay.protocol.message.backend.AuthenticationSaslFinal;
import io.pgrelay.protocol.message.frontend.PasswordMessage;
import io.pgrelay.protocol.message.frontend.Query;
import io.pgrelay.protocol.message.frontend.SaslInitialResponse;
import io.pgrelay.protocol.message.frontend.SaslResponse;
import io.pgrelay.protocol.message.frontend.StartupMessage;
import io.pgrelay.protocol.message.frontend.Terminate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.LinkedHashMap;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.pgrelay.core.testing.ChannelTesting.assertFatal;
import static io.pgrelay.core.testing.ChannelTesting.concat;
import static io.pgrelay.core.testing.ChannelTesting.drainFrames;
import static io.pgrelay.core.testing.ChannelTesting.encode;
import static io.pgrelay.core.testing.ChannelTesting.writeByteByByte;
import static io.pgrelay.core.testing.ChannelTesting.writeWhole;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The authentication exchange of {@link ClientAuthHandler} behind a {@link FrameDecoder},
 * with the client's messages fed one byte at a time. A successful login hands the channel to
 * what {@link LoggedInHandlers} installs: mostly a {@link RecordingHandlers} stand-in, so the
 * tests see the hand-over itself; a few run on into a real {@link ClientSession}, which finds
 * no primary in the test cluster, answers 57P03 and closes. A
 * {@link SessionTesting.PipelineProbe} shows which handler wrote each message.
 */
class ClientAuthHandlerTest {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String HASHED_PASSWORD = Md5Password.encode("hana", "secret");

    /** Built once: it derives each user's SCRAM secret (PBKDF2). */
    private static final UserDirectory USERS = new UserDirectory(new AuthConfig(AuthMethod.SCRAM_SHA_256, List.of(
            new UserConfig("alice", "secret", null, null, null),
            new UserConfig("mona", "secret", null, null, AuthMethod.MD5),
            new UserConfig("paul", "secret", null, null, AuthMethod.PASSWORD),
            new UserConfig("hana", HASHED_PASSWORD, null, "secret", AuthMethod.PASSWORD),
            new UserConfig("tom", "", null, null, AuthMethod.TRUST))));
    private static final List<String> CONSOLE_USERS = List.of("tom");

    private final RecordingHandlers next = new RecordingHandlers();
    private final ClientRegistry clients = new ClientRegistry();
    private final ProxyMetrics metrics = SessionTesting.metrics();
    private final CancelRegistry cancels = new CancelRegistry();
    private final SessionTesting.PipelineProbe probe = new SessionTesting.PipelineProbe();
    private EmbeddedChannel channel;

    @AfterEach
    void closeChannel() {
        if (channel != null) {
            channel.finishAndReleaseAll();
        }
    }

    private ClientLogin login(AuthMethod defaultMethod, LoggedInHandlers loggedIn) {
        return new ClientLogin(USERS, defaultMethod, CONSOLE_USERS, clients, metrics, loggedIn);
    }

    private EmbeddedChannel open(ClientLogin login, String user, String... moreParameters) {
        Map<String, String> parameters = new LinkedHashMap<>();
        parameters.put("user", user);
        parameters.put("database", "shop");
        for (int i = 0; i < moreParameters.length; i += 2) {
            parameters.put(moreParameters[i], moreParameters[i + 1]);
        }
        StartupMessage startup = new StartupMessage(StartupMessage.PROTOCOL_3_0, parameters);
        channel = new EmbeddedChannel(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast("probe", probe);
                ch.pipeline().addLast("frames", new FrameDecoder(SessionTesting.MAX_MESSAGE_BYTES));
                StartupDeadline deadline = StartupDeadline.start(ch, Duration.ofMinutes(1));
                deadline.authenticating();
                ch.pipeline().addLast("auth", new ClientAuthHandler(login, startup, deadline));
            }
        });
        return channel;
    }

    private EmbeddedChannel open(String user, String... moreParameters) {
        return open(login(AuthMethod.SCRAM_SHA_256, next), user, moreParameters);
    }

    /** As {@link #open(String, String...)}, with real sessions after the login. */
    private EmbeddedChannel openToSessions(String user, String... moreParameters) {
        LoggedInHandlers sessions = SessionTesting.realSessions(SessionTesting.sessions(cancels));
        return open(login(AuthMethod.SCRAM_SHA_256, sessions), user, moreParameters);
    }

    private void send(FrontendMessage message) {
        writeByteByByte(channel, encode(message));
    }

    /** The only frame written since the last read: an authentication request. */
    private Authentication nextRequest() {
        List<Frame> frames = drainFrames(channel);
        assertThat(frames).hasSize(1);
        assertThat(frames.get(0).typeChar()).isEqualTo('R');
        return frames.get(0).decode(Authentication::decode);
    }

    /** Authentication handed the client over to a session: registered, the stand-in in place of "auth", open. */
    private void assertHandedOverToSession(String user) {
        assertThat(next.handovers).hasSize(1);
        Handover handover = next.handovers.get(0);
        assertThat(handover.kind()).isEqualTo("session");
        assertThat(handover.startup().user()).isEqualTo(user);
        assertThat(handover.credentials()).isSameAs(USERS.find(user));
        assertThat(channel.pipeline().get("session")).isSameAs(handover.handler());
        assertThat(channel.pipeline().get("auth")).isNull();
        assertThat(channel.isOpen()).isTrue();
        assertThat(clients.entries()).singleElement().satisfies(client -> {
            assertThat(client.user()).isEqualTo(user);
            assertThat(client.database()).isEqualTo("shop");
            assertThat(client.console()).isFalse();
        });
        assertThat(metrics.clientsRefused()).isZero();
    }

    /** The frame is the real session's "no primary" error, written after authentication handed over to it. */
    private void assertRealSessionTookOver(Frame frame, int writeIndex) {
        assertThat(assertFatal(frame, SqlState.CANNOT_CONNECT_NOW).message()).isEqualTo("no primary node is available");
        assertThat(probe.pipelineAtWrite.get(writeIndex)).contains("frames", "session").doesNotContain("auth");
        assertEnded();
        assertThat(cancels.size()).as("session unregistered its cancel key").isZero();
    }

    private void assertPasswordFailed(Frame frame, String user) {
        assertThat(assertFatal(frame, SqlState.INVALID_PASSWORD).message())
                .isEqualTo("password authentication failed for user \"" + user + "\"");
        assertRefused();
    }

    /** The client was refused: the channel ended, nothing was handed over or registered, the refusal counted. */
    private void assertRefused() {
        assertEnded();
        assertThat(next.handovers).isEmpty();
        assertThat(clients.entries()).isEmpty();
        assertThat(metrics.clientsRefused()).isEqualTo(1);
    }

    private void assertEnded() {
        assertThat(channel.isOpen()).as("channel open").isFalse();
        assertThat(channel.finish()).as("messages left in the channel").isFalse();
    }

    /** Runs SCRAM up to the client-final-message; returns the frames written in answer to it. */
    private List<Frame> scramExchange(ScramClientSession client) {
        assertThat(nextRequest()).isEqualTo(new AuthenticationSasl(List.of(ScramSha256.MECHANISM)));
        send(new SaslInitialResponse(client.mechanism(), client.clientFirstMessage()));
        Authentication serverFirst = nextRequest();
        assertThat(serverFirst).isInstanceOf(AuthenticationSaslContinue.class);
        assertThat(channel.isOpen()).isTrue();
        send(new SaslResponse(client.handleServerFirst(((AuthenticationSaslContinue) serverFirst).data())));
        return drainFrames(channel);
    }

    private static ScramClientSession scramClient(String password) {
        return new ScramClientSession(password, NonceSource.secureRandom(RANDOM));
    }

    // ---- SCRAM-SHA-256 ----

    @Test
    void scramHappyPath() {
        open("alice");
        ScramClientSession client = scramClient("secret");

        // The server-final-message goes out with the next handler's first flush (its AuthenticationOk).
        assertThat(scramExchange(client)).isEmpty();
        channel.flush();
        List<Frame> frames = drainFrames(channel);

        assertThat(frames).extracting(Frame::typeChar).containsExactly('R');
        Authentication serverFinal = frames.get(0).decode(Authentication::decode);
        assertThat(serverFinal).isInstanceOf(AuthenticationSaslFinal.class);
        client.handleServerFinal(((AuthenticationSaslFinal) serverFinal).data());
        assertThat(client.isComplete()).as("server signature verified").isTrue();
        assertThat(probe.pipelineAtWrite.get(2)).contains("auth");
        assertHandedOverToSession("alice");
    }

    @Test
    void scramHandsOverToARealSession() {
        openToSessions("alice");

        List<Frame> frames = scramExchange(scramClient("secret"));

        assertThat(frames).extracting(Frame::typeChar).containsExactly('R', 'E');
        assertRealSessionTookOver(frames.get(1), 3);
    }

    @Test
    void scramWrongPassword() {
        open("alice");

        List<Frame> frames = scramExchange(scramClient("wrong"));

        assertThat(frames).hasSize(1);
        assertPasswordFailed(frames.get(0), "alice");
    }

    @Test
    void scramUnknownUserFailsOnlyAfterTheWholeExchange() {
        open("nobody");

        // scramExchange checks that the server-first-message comes as for a known user.
        List<Frame> frames = scramExchange(scramClient("secret"));

        assertThat(frames).hasSize(1);
        assertPasswordFailed(frames.get(0), "nobody");
    }

    @Test
    void scramWithAnotherMechanismIsAProtocolViolation() {
        open("alice");
        nextRequest();

        send(new SaslInitialResponse("SCRAM-SHA-256-PLUS", "p=tls-server-end-point,,n=,r=abc".getBytes(StandardCharsets.US_ASCII)));

        List<Frame> frames = drainFrames(channel);
        assertThat(frames).hasSize(1);
        assertFatal(frames.get(0), SqlState.PROTOCOL_VIOLATION);
        assertRefused();
    }

    // ---- md5 ----

    private String md5Response(String user, String password) {
        Authentication request = nextRequest();
        assertThat(request).isInstanceOf(AuthenticationMd5Password.class);
        byte[] salt = ((AuthenticationMd5Password) request).salt();
        return new String(Md5Password.response(user, password, salt), StandardCharsets.US_ASCII);
    }

    @Test
    void md5HappyPath() {
        open("mona");

        send(new PasswordMessage(md5Response("mona", "secret")));

        assertThat(drainFrames(channel)).isEmpty();
        assertHandedOverToSession("mona");
    }

    @Test
    void md5WrongPassword() {
        open("mona");

        send(new PasswordMessage(md5Response("mona", "wrong")));

        List<Frame> frames = drainFrames(channel);
        assertThat(frames).hasSize(1);
        assertPasswordFailed(frames.get(0), "mona");
    }

    @Test
    void md5UnknownUserFailsLikeAWrongPassword() {
        open(login(AuthMethod.MD5, next), "nobody");

        send(new PasswordMessage(md5Response("nobody", "secret")));

        List<Frame> frames = drainFrames(channel);
        assertThat(frames).hasSize(1);
        assertPasswordFailed(frames.get(0), "nobody");
    }

    // ---- cleartext ----

    @Test
    void cleartextHappyPath() {
        open("paul");
        assertThat(nextRequest()).isSameAs(AuthenticationCleartextPassword.INSTANCE);

        send(new PasswordMessage("secret"));

        assertThat(drainFrames(channel)).isEmpty();
        assertHandedOverToSession("paul");
    }

    @Test
    void cleartextHandsOverToARealSession() {
        openToSessions("paul");
        assertThat(nextRequest()).isSameAs(AuthenticationCleartextPassword.INSTANCE);

        send(new PasswordMessage("secret"));

        List<Frame> frames = drainFrames(channel);
        assertThat(frames).hasSize(1);
        assertRealSessionTookOver(frames.get(0), 1);
    }

    @Test
    void cleartextWrongPassword() {
        open("paul");
        assertThat(nextRequest()).isSameAs(AuthenticationCleartextPassword.INSTANCE);

        send(new PasswordMessage("Secret"));

        List<Frame> frames = drainFrames(channel);
        assertThat(frames).hasSize(1);
        assertPasswordFailed(frames.get(0), "paul");
    }

    @Test
    void cleartextIsCheckedAgainstAStoredMd5Hash() {
        open("hana");
        assertThat(nextRequest()).isSameAs(AuthenticationCleartextPassword.INSTANCE);

        // The hash itself is not a password.
        send(new PasswordMessage(HASHED_PASSWORD));
        List<Frame> frames = drainFrames(channel);
        assertThat(frames).hasSize(1);
        assertPasswordFailed(frames.get(0), "hana");
    }

    @Test
    void cleartextMatchingAStoredMd5Hash() {
        open("hana");
        assertThat(nextRequest()).isSameAs(AuthenticationCleartextPassword.INSTANCE);

        send(new PasswordMessage("secret"));

        assertThat(drainFrames(channel)).isEmpty();
        assertHandedOverToSession("hana");
    }

    // ---- trust ----

    @Test
    void trustAsksForNothing() {
        open("tom");

        assertThat(drainFrames(channel)).isEmpty();
        assertHandedOverToSession("tom");
    }

    @Test
    void trustHandsOverToARealSession() {
        openToSessions("tom");

        List<Frame> frames = drainFrames(channel);

        assertThat(frames).hasSize(1);
        assertRealSessionTookOver(frames.get(0), 0);
    }

    @Test
    void trustForAnUnknownUserIsRefused() {
        open(login(AuthMethod.TRUST, next), "nobody");

        List<Frame> frames = drainFrames(channel);

        assertThat(frames).hasSize(1);
        assertThat(assertFatal(frames.get(0), SqlState.INVALID_AUTHORIZATION_SPECIFICATION).message())
                .isEqualTo("role \"nobody\" does not exist");
        assertRefused();
    }

    // ---- the admin console ----

    @Test
    void aConsoleUserGetsTheConsole() {
        open("tom", "database", ClientLogin.CONSOLE_DATABASE);

        assertThat(drainFrames(channel)).isEmpty();
        assertThat(next.handovers).singleElement().satisfies(handover -> {
            assertThat(handover.kind()).isEqualTo("console");
            assertThat(channel.pipeline().get("console")).isSameAs(handover.handler());
            assertThat(handover.client()).isSameAs(ClientRegistry.of(channel));
        });
        assertThat(clients.entries()).singleElement().satisfies(client -> {
            assertThat(client.console()).isTrue();
            assertThat(client.state()).isEqualTo("console");
        });
        assertThat(channel.pipeline().get("auth")).isNull();
        assertThat(channel.isOpen()).isTrue();
    }

    @Test
    void otherUsersMayNotUseTheConsole() {
        open("paul", "database", ClientLogin.CONSOLE_DATABASE);
        assertThat(nextRequest()).isSameAs(AuthenticationCleartextPassword.INSTANCE);

        send(new PasswordMessage("secret"));

        List<Frame> frames = drainFrames(channel);
        assertThat(frames).hasSize(1);
        assertThat(assertFatal(frames.get(0), SqlState.INSUFFICIENT_PRIVILEGE).message())
                .isEqualTo("permission denied: user \"paul\" may not use the pgrelay admin console "
                        + "(database \"pgrelay\"; see admin.console-users)");
        assertRefused();
    }

    @Test
    void framesPipelinedAfterARefusedConsoleLoginAreDropped() {
        // Found by ClientConnectionFuzzTest (crash-63da2338...): after the right password of a user
        // who may not use the console, the pipelined Query drew a second error and a second refusal.
        open("paul", "database", ClientLogin.CONSOLE_DATABASE);
        nextRequest();

        writeWhole(channel, concat(encode(new PasswordMessage("secret")), encode(new Query("show nodes")),
                encode(Terminate.INSTANCE)));

        List<Frame> frames = drainFrames(channel);
        assertThat(frames).hasSize(1);
        assertFatal(frames.get(0), SqlState.INSUFFICIENT_PRIVILEGE);
        assertRefused();
        assertThat(channel.inboundMessages()).as("frames that passed every handler").isEmpty();
    }

    // ---- anything else during authentication ----

    @Test
    void anotherMessageDuringAuthenticationIsAProtocolViolation() {
        open("alice");
        nextRequest();

        send(new Query("SELECT 1"));

        List<Frame> frames = drainFrames(channel);
        assertThat(frames).hasSize(1);
        assertThat(assertFatal(frames.get(0), SqlState.PROTOCOL_VIOLATION).message())
                .isEqualTo("expected password response, got message type 81");
        assertRefused();
    }

    @Test
    void framesPipelinedAfterARefusedPasswordAreDropped() {
        // Found by ClientConnectionFuzzTest (its crash-a69c1f14... input): the Query after the wrong
        // password drew a second error and a second refusal, and the Terminate reached the pipeline's end.
        open("paul");
        nextRequest();

        writeWhole(channel, concat(encode(new PasswordMessage("secert")), encode(new Query("select 1")),
                encode(Terminate.INSTANCE)));

        List<Frame> frames = drainFrames(channel);
        assertThat(frames).hasSize(1);
        assertPasswordFailed(frames.get(0), "paul");
        assertThat(channel.inboundMessages()).as("frames that passed every handler").isEmpty();
    }

    @Test
    void framesPipelinedAfterATerminateAreDropped() {
        // Found by ClientConnectionFuzzTest (crash-572434a7...): the password after the Terminate
        // still logged the client in, on a closed connection.
        open("paul");
        nextRequest();

        writeWhole(channel, concat(encode(Terminate.INSTANCE), encode(new PasswordMessage("secret")),
                encode(Terminate.INSTANCE)));

        assertThat(drainFrames(channel)).isEmpty();
        assertThat(next.handovers).as("logged in after the Terminate").isEmpty();
        assertThat(channel.inboundMessages()).as("frames that passed every handler").isEmpty();
        assertEnded();
    }

    @Test
    void terminateDuringAuthenticationClosesWithoutError() {
        open("paul");
        nextRequest();

        send(Terminate.INSTANCE);

        assertThat(drainFrames(channel)).isEmpty();
        assertEnded();
    }

    @Test
    void authenticationTimesOut() {
        open("alice");
        nextRequest();

        channel.advanceTimeBy(59, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();
        assertThat(drainFrames(channel)).isEmpty();
        channel.advanceTimeBy(1, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();

        List<Frame> frames = drainFrames(channel);
        assertThat(frames).hasSize(1);
        assertThat(assertFatal(frames.get(0), SqlState.QUERY_CANCELED).message())
                .isEqualTo("canceling authentication due to timeout");
        assertEnded();
    }

    @Test
    void invalidStartupOptionsAreReportedAfterAuthentication() {
        openToSessions("paul", "options", "-c");
        assertThat(nextRequest()).isSameAs(AuthenticationCleartextPassword.INSTANCE);

        send(new PasswordMessage("secret"));

        List<Frame> frames = drainFrames(channel);
        assertThat(frames).hasSize(1);
        assertThat(assertFatal(frames.get(0), SqlState.INVALID_PARAMETER_VALUE).message())
                .isEqualTo("invalid command-line argument for server process: -c");
        assertEnded();
        assertThat(metrics.clientsRefused()).isEqualTo(1);
        assertThat(cancels.size()).as("the refused session left no cancel key").isZero();
    }
}
