package io.pgrelay.core.backend;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;
import io.pgrelay.protocol.message.FrontendMessage;
import io.pgrelay.protocol.message.backend.BindComplete;
import io.pgrelay.protocol.message.backend.CommandComplete;
import io.pgrelay.protocol.message.backend.DataRow;
import io.pgrelay.protocol.message.backend.ErrorResponse;
import io.pgrelay.protocol.message.backend.NotificationResponse;
import io.pgrelay.protocol.message.backend.ParameterStatus;
import io.pgrelay.protocol.message.backend.ParseComplete;
import io.pgrelay.protocol.message.backend.ReadyForQuery;
import io.pgrelay.protocol.message.backend.ReadyForQuery.TransactionStatus;
import io.pgrelay.protocol.message.backend.RowDescription;
import io.pgrelay.protocol.message.frontend.Bind;
import io.pgrelay.protocol.message.frontend.Execute;
import io.pgrelay.protocol.message.frontend.Parse;
import io.pgrelay.protocol.message.frontend.Query;
import io.pgrelay.protocol.message.frontend.Sync;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static io.pgrelay.core.testing.ChannelTesting.buffer;
import static io.pgrelay.core.testing.ChannelTesting.concat;
import static io.pgrelay.core.testing.ChannelTesting.drainOutbound;
import static io.pgrelay.core.testing.ChannelTesting.encode;
import static io.pgrelay.core.testing.ChannelTesting.writeByteByByte;
import static io.pgrelay.core.testing.ChannelTesting.writeWhole;
import static io.pgrelay.testing.Bytes.prefix;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link BackendConnection} as the only handler of an EmbeddedChannel standing for the
 * server socket: what it forwards to the attached session, what it swallows, and what it
 * writes itself. Server output is fed byte by byte, whole, and in odd-sized chunks.
 */
class BackendConnectionTest {
    private static final PoolKey KEY = new PoolKey(0, "pg1", "alice", "shop");
    private static final String RESET = "DISCARD ALL";

    /** How the server's bytes arrive. */
    enum Feed {
        BYTE_BY_BYTE {
            @Override
            void write(EmbeddedChannel channel, byte[] bytes) {
                writeByteByByte(channel, bytes);
            }
        },
        WHOLE {
            @Override
            void write(EmbeddedChannel channel, byte[] bytes) {
                writeWhole(channel, bytes);
            }
        },
        CHUNKS_OF_7 {
            @Override
            void write(EmbeddedChannel channel, byte[] bytes) {
                for (int from = 0; from < bytes.length; from += 7) {
                    writeWhole(channel, Arrays.copyOfRange(bytes, from, Math.min(bytes.length, from + 7)));
                }
            }
        };

        abstract void write(EmbeddedChannel channel, byte[] bytes);
    }

    /** A ReadyForQuery passed on: its status, whether the backend was idle, and how many bytes the session had by then. */
    record Ready(TransactionStatus status, boolean idle, int bytesBefore) {
    }

    /** Records everything a session would see. */
    static final class Recorder implements BackendListener {
        final List<String> events;
        final ByteArrayOutputStream data = new ByteArrayOutputStream();
        final List<Ready> readies = new ArrayList<>();
        int readCompletes;
        String closedReason;

        Recorder(List<String> events) {
            this.events = events;
        }

        @Override
        public void onBackendData(BackendConnection backend, ByteBuf bytes) {
            try {
                data.writeBytes(ByteBufUtil.getBytes(bytes));
                events.add("data");
            } finally {
                bytes.release();
            }
        }

        @Override
        public void onBackendReadComplete(BackendConnection backend) {
            readCompletes++;
            backend.requestRead();
        }

        @Override
        public void onBackendReady(BackendConnection backend, TransactionStatus status, boolean idle) {
            readies.add(new Ready(status, idle, data.size()));
            events.add("ready " + status);
        }

        @Override
        public void onBackendWritabilityChanged(BackendConnection backend, boolean writable) {
            events.add("writable " + writable);
        }

        @Override
        public void onBackendClosed(BackendConnection backend, String reason) {
            closedReason = reason;
            events.add("closed");
        }

        byte[] bytes() {
            return data.toByteArray();
        }
    }

    private final List<String> events = new ArrayList<>();
    private final Recorder session = new Recorder(events);
    private final EmbeddedChannel channel = new EmbeddedChannel();
    private final BackendConnection connection = new BackendConnection(channel, KEY, 4242, 77,
            Map.of("server_version", "17.2", "in_hot_standby", "off"), TransactionStatus.IDLE, 1 << 20);

    @BeforeEach
    void attach() {
        channel.pipeline().addLast("backend", connection);
        connection.attach(session);
    }

    @AfterEach
    void close() {
        channel.finishAndReleaseAll();
    }

    /** Passes one client frame to the connection, as ClientSession does (the only call of writeClientFrame here). */
    private void writeClientFrame(byte[] frame) {
        connection.writeClientFrame(buffer(channel, frame));
    }

    /** Sends client frames as the session does and checks they went out unchanged. */
    private void sendClient(FrontendMessage... messages) {
        for (FrontendMessage message : messages) {
            writeClientFrame(encode(message));
        }
        connection.flush();
        assertThat(drainOutbound(channel)).isEqualTo(encode(messages));
    }

    private static byte[] selectOneResponse(ReadyForQuery ready) {
        return encode(RowDescription.ofText("?column?"), DataRow.ofText("1"), new CommandComplete("SELECT 1"), ready);
    }

    private void assertEnded() {
        assertThat(channel.finish()).as("messages left in the channel").isFalse();
    }

    // ---- relaying ----

    @ParameterizedTest
    @EnumSource(Feed.class)
    void clientQueryResponsesAreForwardedInOrder(Feed feed) {
        sendClient(new Query("SELECT 1"));
        assertThat(connection.isIdle()).isFalse();
        byte[] response = selectOneResponse(ReadyForQuery.IDLE);

        feed.write(channel, response);

        assertThat(session.bytes()).isEqualTo(response);
        assertThat(session.readies).containsExactly(new Ready(TransactionStatus.IDLE, true, response.length));
        assertThat(session.readCompletes).isPositive();
        assertThat(connection.isIdle()).isTrue();
        assertThat(connection.transactionStatus()).isEqualTo(TransactionStatus.IDLE);
        assertEnded();
    }

    @Test
    void readyIsReportedOnlyAfterTheLastByte() {
        sendClient(new Query("SELECT 1"));
        byte[] response = selectOneResponse(ReadyForQuery.IDLE);

        writeByteByByte(channel, prefix(response, response.length - 1));
        assertThat(session.readies).isEmpty();
        assertThat(connection.isIdle()).isFalse();
        writeByteByByte(channel, new byte[] {response[response.length - 1]});

        assertThat(session.readies).containsExactly(new Ready(TransactionStatus.IDLE, true, response.length));
        assertThat(session.bytes()).isEqualTo(response);
        assertEnded();
    }

    @ParameterizedTest
    @EnumSource(Feed.class)
    void extendedProtocolIsAnsweredOnceAtSync(Feed feed) {
        sendClient(new Parse("", "SELECT $1", new int[0]),
                new Bind("", "", new short[0], List.of("1".getBytes()), new short[0]),
                new Execute("", 0), Sync.INSTANCE);
        byte[] response = encode(ParseComplete.INSTANCE, BindComplete.INSTANCE, DataRow.ofText("1"),
                new CommandComplete("SELECT 1"), ReadyForQuery.IDLE);

        feed.write(channel, response);

        assertThat(session.bytes()).isEqualTo(response);
        assertThat(session.readies).containsExactly(new Ready(TransactionStatus.IDLE, true, response.length));
        assertEnded();
    }

    @ParameterizedTest
    @EnumSource(Feed.class)
    void internalQueryPipelinedBeforeAClientQueryIsSwallowed(Feed feed) {
        List<ErrorResponse> errors = new ArrayList<>();
        connection.writeInternalQuery("SELECT pg_catalog.set_config(E'x', E'y', false)", (backend, error) -> {
            errors.add(error);
            events.add("internal done");
        });
        byte[] query = encode(new Query("SELECT 1"));
        writeClientFrame(query);
        connection.flush();
        assertThat(drainOutbound(channel))
                .isEqualTo(concat(encode(new Query("SELECT pg_catalog.set_config(E'x', E'y', false)")), query));
        byte[] internalResponse = encode(new ParameterStatus("application_name", "reporting"),
                ErrorResponse.error("42704", "unrecognized configuration parameter \"x\""), ReadyForQuery.IDLE);
        byte[] clientResponse = selectOneResponse(ReadyForQuery.IDLE);

        feed.write(channel, concat(internalResponse, clientResponse));

        assertThat(session.bytes()).isEqualTo(clientResponse);
        assertThat(errors).hasSize(1);
        assertThat(errors.get(0).sqlState()).isEqualTo("42704");
        assertThat(connection.parameters()).containsEntry("application_name", "reporting");
        assertThat(connection.parameters().get("APPLICATION_NAME")).isEqualTo("reporting");
        assertThat(events.indexOf("internal done")).isLessThan(events.indexOf("data"));
        assertThat(session.readies).containsExactly(new Ready(TransactionStatus.IDLE, true, clientResponse.length));
        assertEnded();
    }

    @ParameterizedTest
    @EnumSource(Feed.class)
    void internalQueryRowsGoToItsConsumer(Feed feed) {
        List<List<String>> rows = new ArrayList<>();
        List<ErrorResponse> errors = new ArrayList<>();
        connection.writeInternalQuery("SHOW transaction_read_only", rows::add, (backend, error) -> errors.add(error));
        connection.flush();
        assertThat(drainOutbound(channel)).isEqualTo(encode(new Query("SHOW transaction_read_only")));

        feed.write(channel, encode(RowDescription.ofText("transaction_read_only"), DataRow.ofText("off"),
                new CommandComplete("SHOW"), ReadyForQuery.IDLE));

        assertThat(rows).containsExactly(List.of("off"));
        assertThat(errors).containsExactly((ErrorResponse) null);
        assertThat(session.bytes()).isEmpty();
        assertThat(session.readies).isEmpty();
        assertThat(connection.isIdle()).isTrue();
        assertEnded();
    }

    @ParameterizedTest
    @EnumSource(Feed.class)
    void notificationWhileIdleIsForwarded(Feed feed) {
        byte[] notification = encode(new NotificationResponse(999, "jobs", "new"));

        feed.write(channel, notification);

        assertThat(session.bytes()).isEqualTo(notification);
        assertThat(session.readies).isEmpty();
        assertThat(connection.isIdle()).isTrue();
        assertEnded();
    }

    @ParameterizedTest
    @EnumSource(Feed.class)
    void parameterStatusWhileIdleIsRecordedAndForwarded(Feed feed) {
        byte[] status = encode(new ParameterStatus("in_hot_standby", "on"));
        assertThat(connection.isHotStandby()).isFalse();

        feed.write(channel, status);

        assertThat(session.bytes()).isEqualTo(status);
        assertThat(connection.isHotStandby()).isTrue();
        assertEnded();
    }

    // ---- errors ----

    @ParameterizedTest
    @EnumSource(Feed.class)
    void fatalErrorWithNothingOutstandingIsNotForwarded(Feed feed) {
        assertThat(connection.isUsable()).isTrue();

        feed.write(channel, encode(ErrorResponse.fatal("57P01", "terminating connection due to administrator command")));

        assertThat(session.bytes()).isEmpty();
        assertThat(connection.isUsable()).isFalse();
        assertThat(channel.isOpen()).as("the server closes, not pgrelay").isTrue();

        channel.close();
        assertThat(session.closedReason).isEqualTo("terminating connection due to administrator command");
        assertThat(connection.isClosed()).isTrue();
        assertEnded();
    }

    @ParameterizedTest
    @EnumSource(Feed.class)
    void fatalErrorAnsweringAClientQueryReachesTheSessionAsTheCloseReason(Feed feed) {
        sendClient(new Query("SELECT pg_sleep(60)"));
        byte[] error = encode(ErrorResponse.fatal("57P01", "terminating connection due to administrator command"));

        feed.write(channel, error);

        assertThat(session.bytes()).as("the session answers the client itself and keeps it connected").isEmpty();
        assertThat(connection.isUsable()).isFalse();
        channel.close();
        assertThat(session.closedReason).isEqualTo("terminating connection due to administrator command");
        assertEnded();
    }

    @Test
    void closingFailsOutstandingInternalQueries() {
        List<ErrorResponse> errors = new ArrayList<>();
        connection.writeInternalQuery("SELECT 1", (backend, error) -> errors.add(error));
        connection.flush();
        drainOutbound(channel);

        channel.close();

        assertThat(errors).hasSize(1);
        assertThat(errors.get(0).sqlState()).isEqualTo("08006");
        assertThat(session.closedReason).isEqualTo("server closed the connection unexpectedly");
        assertEnded();
    }

    // ---- transaction status ----

    @Test
    void transactionStatusFollowsReadyForQuery() {
        sendClient(new Query("BEGIN"));
        writeByteByByte(channel, encode(new CommandComplete("BEGIN"), ReadyForQuery.IN_TRANSACTION));
        assertThat(connection.transactionStatus()).isEqualTo(TransactionStatus.IN_TRANSACTION);

        sendClient(new Query("SELECT nope"));
        writeByteByByte(channel, encode(ErrorResponse.error("42703", "column \"nope\" does not exist"),
                ReadyForQuery.FAILED));
        assertThat(connection.transactionStatus()).isEqualTo(TransactionStatus.FAILED);

        sendClient(new Query("ROLLBACK"));
        writeByteByByte(channel, encode(new CommandComplete("ROLLBACK"), ReadyForQuery.IDLE));
        assertThat(connection.transactionStatus()).isEqualTo(TransactionStatus.IDLE);

        assertThat(session.readies).extracting(Ready::status).containsExactly(
                TransactionStatus.IN_TRANSACTION, TransactionStatus.FAILED, TransactionStatus.IDLE);
        assertEnded();
    }

    // ---- recycling ----

    private void beginTransaction() {
        sendClient(new Query("BEGIN"));
        writeByteByByte(channel, encode(new CommandComplete("BEGIN"), ReadyForQuery.IN_TRANSACTION));
        assertThat(connection.transactionStatus()).isEqualTo(TransactionStatus.IN_TRANSACTION);
        assertThat(session.bytes()).isNotEmpty();
        session.data.reset();
    }

    private BackendPool pool() {
        BackendPool pool = new BackendPool(KEY, "127.0.0.1", 5432, "secret", 5, 1000, 60_000, null,
                new EventLoops(channel.eventLoop()));
        connection.pool(pool);
        return pool;
    }

    @Test
    void recycleWithoutAPoolCloses() {
        beginTransaction();

        connection.recycle(RESET);

        assertThat(drainOutbound(channel)).as("nothing written").isEmpty();
        assertThat(channel.isOpen()).isFalse();
        assertThat(connection.listener()).isNull();
        assertThat(session.closedReason).as("a detached session hears nothing").isNull();
        assertEnded();
    }

    @ParameterizedTest
    @EnumSource(Feed.class)
    void recycleInATransactionRollsBackThenResets(Feed feed) {
        BackendPool pool = pool();
        beginTransaction();

        connection.recycle(RESET);

        assertThat(drainOutbound(channel)).isEqualTo(encode(new Query("ROLLBACK"), new Query(RESET)));
        assertThat(connection.listener()).isNull();
        assertThat(pool.idle()).isZero();

        feed.write(channel, encode(new CommandComplete("ROLLBACK"), ReadyForQuery.IDLE,
                new CommandComplete(RESET), ReadyForQuery.IDLE));

        assertThat(pool.idle()).isEqualTo(1);
        assertThat(connection.isUsable()).isTrue();
        assertThat(connection.transactionStatus()).isEqualTo(TransactionStatus.IDLE);
        assertThat(session.bytes()).isEmpty();

        channel.close();
        assertThat(pool.idle()).as("a closed connection leaves the pool").isZero();
        assertEnded();
    }

    @Test
    void recycleWhenIdleOnlyResets() {
        BackendPool pool = pool();

        connection.recycle(RESET);

        assertThat(drainOutbound(channel)).isEqualTo(encode(new Query(RESET)));
        writeByteByByte(channel, encode(new CommandComplete(RESET), ReadyForQuery.IDLE));
        assertThat(pool.idle()).isEqualTo(1);
        assertEnded();
    }

    @Test
    void recycleInTheMiddleOfARequestCloses() {
        BackendPool pool = pool();
        sendClient(new Query("SELECT pg_sleep(60)"));

        connection.recycle(RESET);

        assertThat(drainOutbound(channel)).isEmpty();
        assertThat(channel.isOpen()).isFalse();
        assertThat(pool.idle()).isZero();
        assertEnded();
    }

    @Test
    void failedResetCloses() {
        BackendPool pool = pool();

        connection.recycle(RESET);
        drainOutbound(channel);
        writeByteByByte(channel, encode(ErrorResponse.error("25001", "DISCARD ALL cannot run inside a transaction block"),
                ReadyForQuery.IDLE));

        assertThat(channel.isOpen()).isFalse();
        assertThat(pool.idle()).isZero();
        assertEnded();
    }
}
