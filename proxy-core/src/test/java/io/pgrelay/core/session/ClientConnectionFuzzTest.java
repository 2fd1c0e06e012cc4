package io.pgrelay.core.session;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.embedded.EmbeddedChannel;
import io.pgrelay.core.auth.UserDirectory;
import io.pgrelay.core.config.AuthMethod;
import io.pgrelay.core.config.ProxyConfig.AuthConfig;
import io.pgrelay.core.config.ProxyConfig.UserConfig;
import io.pgrelay.core.metrics.ProxyMetrics;
import io.pgrelay.core.testing.ChannelTesting.Frame;
import io.pgrelay.protocol.SqlState;
import io.pgrelay.protocol.auth.Md5Password;
import io.pgrelay.protocol.codec.StartupPacketDecoder;
import io.pgrelay.protocol.message.backend.ErrorResponse;
import io.pgrelay.testing.FuzzStreams;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static io.pgrelay.core.testing.ChannelTesting.frames;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fuzzes a client connection from its first byte through start-up and authentication: the
 * pipeline {@code ProxyServer} builds ({@link StartupPacketDecoder}, {@link ClientStartupHandler},
 * which installs the frame decoder and {@link ClientAuthHandler}), in an {@code EmbeddedChannel},
 * with users of every authentication method, and after a login a real session that finds no
 * primary (57P03) and closes. Input: the client's stream, chunked as {@link FuzzStreams}
 * describes (the seeds are captured psql, pgjdbc and pgbench sessions).
 *
 * <p>Whatever the client sends: no exception leaves the pipeline; the proxy writes only
 * encryption answers and authentication messages until it ends the connection, with at most one
 * FATAL ErrorResponse (never the "internal error" a handler bug would produce) written last and
 * followed by the close, or with a clean close; and every buffer, fed or written, is released.
 */
class ClientConnectionFuzzTest {
    /** Built once: it derives each user's SCRAM secret (PBKDF2). Passwords as in the captured sessions. */
    private static final UserDirectory USERS = new UserDirectory(new AuthConfig(AuthMethod.SCRAM_SHA_256, List.of(
            new UserConfig("alice", "secret", null, null, null),
            new UserConfig("mona", "secret", null, null, AuthMethod.MD5),
            new UserConfig("paul", "secret", null, null, AuthMethod.PASSWORD),
            new UserConfig("hana", Md5Password.encode("hana", "secret"), null, "secret", AuthMethod.PASSWORD),
            new UserConfig("tom", "", null, null, AuthMethod.TRUST))));
    private static final CancelRegistry CANCELS = new CancelRegistry();
    private static final SessionFactory SESSIONS = SessionTesting.sessions(CANCELS);
    private static final ProxyMetrics METRICS = SessionTesting.metrics();
    private static final byte SSL_REFUSED = 'N';

    @FuzzTest(maxDuration = "5s")
    void connection(byte[] input) {
        ClientAdmission admission = new ClientAdmission(ClientAdmission.Tls.OFF, 100, SessionTesting.MAX_MESSAGE_BYTES,
                CANCELS, new AtomicInteger(), METRICS);
        // No console users: a login to the console database is refused after authentication.
        ClientLogin login = new ClientLogin(USERS, AuthMethod.SCRAM_SHA_256, List.of(), new ClientRegistry(), METRICS,
                SessionTesting.realSessions(SESSIONS));
        EmbeddedChannel channel = new EmbeddedChannel(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast("startup", new StartupPacketDecoder());
                ch.pipeline().addLast("client-startup", new ClientStartupHandler(admission, login));
            }
        });
        List<ByteBuf> fed = new ArrayList<>();
        ByteArrayOutputStream written = new ByteArrayOutputStream();
        for (byte[] chunk : FuzzStreams.chunks(input)) {
            if (!channel.isOpen()) {
                break; // a closed connection reads nothing more
            }
            ByteBuf buf = Unpooled.buffer(chunk.length).writeBytes(chunk);
            fed.add(buf);
            channel.writeInbound(buf); // rethrows whatever reached the end of the pipeline
            channel.runPendingTasks();
            drain(channel, written);
        }
        boolean open = channel.isOpen();
        channel.finish();
        drain(channel, written);
        List<String> unread = new ArrayList<>();
        for (Object message; (message = channel.readInbound()) != null; ) {
            unread.add(message instanceof ByteBuf buf ? "frame " + ByteBufUtil.hexDump(buf) : message.toString());
            io.netty.util.ReferenceCountUtil.release(message);
        }
        assertThat(unread).as("messages that passed every handler").isEmpty();
        checkWritten(written.toByteArray(), open);
        FuzzStreams.assertAllReleased(fed);
        assertThat(CANCELS.size()).as("cancel keys left registered").isZero();
    }

    /** Moves what the proxy wrote into {@code written}, releasing every buffer. */
    private static void drain(EmbeddedChannel channel, ByteArrayOutputStream written) {
        for (Object message; (message = channel.readOutbound()) != null; ) {
            assertThat(message).as("outbound message").isInstanceOf(ByteBuf.class);
            ByteBuf buf = (ByteBuf) message;
            try {
                assertThat(buf.refCnt()).as("reference count of a written buffer").isEqualTo(1);
                written.writeBytes(ByteBufUtil.getBytes(buf));
            } finally {
                buf.release();
            }
        }
    }

    /**
     * The proxy's side of the conversation: 'N' answers to encryption requests, then frames; an
     * ErrorResponse only as the last frame, FATAL, with a real SQLSTATE, and never on an open
     * connection.
     */
    private static void checkWritten(byte[] written, boolean openAtEnd) {
        int at = 0;
        while (at < written.length && written[at] == SSL_REFUSED) {
            at++;
        }
        List<Frame> frames = frames(Arrays.copyOfRange(written, at, written.length));
        for (int i = 0; i < frames.size(); i++) {
            Frame frame = frames.get(i);
            assertThat(frame.typeChar()).as("frame %d of %s", i, frames).isIn('R', 'v', 'E');
            if (frame.typeChar() == 'E') {
                assertThat(i).as("the error is the last frame: %s", frames).isEqualTo(frames.size() - 1);
                ErrorResponse error = frame.decode(ErrorResponse::decode);
                assertThat(error.isFatal()).as("FATAL: %s", error).isTrue();
                assertThat(error.sqlState()).as("SQLSTATE of %s", error).matches("[0-9A-Z]{5}")
                        .isNotEqualTo(SqlState.INTERNAL_ERROR);
                assertThat(openAtEnd).as("connection open after %s", error).isFalse();
            }
        }
    }
}
