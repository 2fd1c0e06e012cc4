package io.pgrelay.core.console;

import com.codahale.metrics.MetricRegistry;
import io.netty.channel.embedded.EmbeddedChannel;
import io.pgrelay.core.cluster.ClusterState;
import io.pgrelay.core.cluster.NodeStatus;
import io.pgrelay.core.cluster.Topology;
import io.pgrelay.core.config.ProxyConfig;
import io.pgrelay.core.config.ProxyConfig.AdminConfig;
import io.pgrelay.core.config.ProxyConfig.AuthConfig;
import io.pgrelay.core.config.ProxyConfig.MonitorConfig;
import io.pgrelay.core.config.ProxyConfig.NodeConfig;
import io.pgrelay.core.config.ProxyConfig.UserConfig;
import io.pgrelay.core.coordination.Membership;
import io.pgrelay.core.coordination.ProxyMember;
import io.pgrelay.core.metrics.ProxyMetrics;
import io.pgrelay.core.ops.ClusterOperations;
import io.pgrelay.core.ops.OperationException;
import io.pgrelay.core.ops.OperationResult;
import io.pgrelay.core.ops.ProxyView;
import io.pgrelay.core.ops.ProxyView.ClientInfo;
import io.pgrelay.core.ops.ProxyView.PoolStats;
import io.pgrelay.core.ops.ReplicationMode;
import io.pgrelay.core.testing.ChannelTesting.Frame;
import io.pgrelay.protocol.SqlState;
import io.pgrelay.protocol.codec.FrameDecoder;
import io.pgrelay.protocol.message.backend.CommandComplete;
import io.pgrelay.protocol.message.backend.DataRow;
import io.pgrelay.protocol.message.backend.ErrorResponse;
import io.pgrelay.protocol.message.backend.ParameterStatus;
import io.pgrelay.protocol.message.backend.ReadyForQuery;
import io.pgrelay.protocol.message.backend.RowDescription;
import io.pgrelay.protocol.message.frontend.Bind;
import io.pgrelay.protocol.message.frontend.Execute;
import io.pgrelay.protocol.message.frontend.Parse;
import io.pgrelay.protocol.message.frontend.Query;
import io.pgrelay.protocol.message.frontend.StartupMessage;
import io.pgrelay.protocol.message.frontend.Sync;
import io.pgrelay.protocol.message.frontend.Terminate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static io.pgrelay.core.testing.ChannelTesting.assertFatal;
import static io.pgrelay.core.testing.ChannelTesting.concat;
import static io.pgrelay.core.testing.ChannelTesting.drainFrames;
import static io.pgrelay.core.testing.ChannelTesting.encode;
import static io.pgrelay.core.testing.ChannelTesting.writeByteByByte;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link ConsoleSession} behind a {@link FrameDecoder}, fed one byte at a time: the
 * greeting, SHOW results as RowDescription/DataRow/CommandComplete/ReadyForQuery, errors
 * that leave the session usable, the extended protocol refused up to Sync, and mutating
 * commands run through {@link ClusterOperations} off the event loop.
 */
class ConsoleSessionTest {
    private static final ProxyConfig CONFIG = new ProxyConfig(null, null, null, null, null, null, null, null,
            new AdminConfig(null, "sekret-token", List.of("admin")),
            List.of(new NodeConfig("pg1", "127.0.0.1", 5432, null), new NodeConfig("pg2", "127.0.0.1", 5433, 2)),
            new AuthConfig(null, List.of(new UserConfig("admin", "hunter2", null, null, null))),
            new MonitorConfig("postgres", "monitor-pass", null, null, null, null, null, null), null, null, null, null, null);

    private static final ProxyMember SELF = new ProxyMember("host-0000cafe", "127.0.0.1:6432", "127.0.0.1:6480",
            "0.1.0-TEST", Instant.parse("2026-01-02T03:04:05Z"));

    private final ClusterState cluster = new ClusterState(CONFIG.nodes());
    private final List<PoolStats> pools = new ArrayList<>();
    private final List<ClientInfo> clients = new ArrayList<>();
    /** What SET application_name told the console's registry entry. */
    private final List<String> applicationNames = new ArrayList<>();
    private EmbeddedChannel channel;

    @AfterEach
    void close() {
        if (channel != null) {
            assertThat(channel.finishAndReleaseAll()).as("nothing left unread").isFalse();
        }
    }

    /** The proxy as this test sets it up: its configuration, a cluster never probed, the test's pools and clients. */
    private record TestView(ClusterState cluster, List<PoolStats> pools, List<ClientInfo> clients,
                            ProxyMetrics metrics, Optional<ClusterOperations> operations) implements ProxyView {
        @Override
        public ProxyConfig config() {
            return CONFIG;
        }

        @Override
        public Topology topology() {
            return cluster.current();
        }

        @Override
        public boolean canRead(NodeStatus replica) {
            return true;
        }

        @Override
        public ProxyMetrics.NodeStats nodeStats(String node) {
            return metrics.nodeStats(node);
        }

        @Override
        public MetricRegistry metricRegistry() {
            return metrics.registry();
        }

        @Override
        public io.prometheus.metrics.model.registry.MultiCollector prometheusMetrics() {
            return metrics.prometheus();
        }

        @Override
        public Membership membership() {
            return new Membership(Membership.Mode.STANDALONE, SELF.id(), List.of(SELF));
        }

        @Override
        public io.pgrelay.core.coordination.ClusterRecord clusterRecord() {
            return null;
        }

        @Override
        public io.pgrelay.core.coordination.Leadership leadership() {
            return io.pgrelay.core.coordination.Leadership.alone(SELF);
        }
    }

    private List<Frame> open(Optional<ClusterOperations> operations) {
        ProxyView view = new TestView(cluster, pools, clients, new ProxyMetrics(new MetricRegistry(), cluster),
                operations);
        channel = new EmbeddedChannel();
        channel.pipeline().addLast(new FrameDecoder(1 << 20));
        channel.pipeline().addLast(new ConsoleSession(view,
                new StartupMessage(StartupMessage.PROTOCOL_3_0, Map.of("user", "admin", "database", "pgrelay", "application_name", "t")),
                applicationNames::add));
        return drainFrames(channel);
    }

    /** A console of a proxy without cluster operations. */
    private List<Frame> open() {
        return open(Optional.empty());
    }

    private List<Frame> open(ClusterOperations operations) {
        return open(Optional.of(operations));
    }

    @Test
    void greetsLikeAServer() {
        List<Frame> frames = open();
        assertThat(frames.get(0).typeChar()).isEqualTo('R');
        List<String> parameters = new ArrayList<>();
        for (Frame frame : frames.subList(1, frames.size() - 1)) {
            assertThat(frame.typeChar()).isEqualTo('S');
            parameters.add(frame.decode(ParameterStatus::decode).name());
        }
        assertThat(parameters).contains("server_version", "client_encoding", "standard_conforming_strings",
                "DateStyle", "integer_datetimes", "application_name");
        assertThat(frames.get(frames.size() - 1).decode(ReadyForQuery::decode)).isEqualTo(ReadyForQuery.IDLE);
    }

    @Test
    void showNodesAnswersOneRowPerNode() {
        open();
        writeByteByByte(channel, encode(new Query("show nodes;")));
        List<Frame> frames = drainFrames(channel);
        assertThat(frames).extracting(Frame::typeChar).containsExactly('T', 'D', 'D', 'C', 'Z');
        RowDescription columns = frames.get(0).decode(RowDescription::decode);
        assertThat(columns.fields()).extracting(RowDescription.Field::name)
                .startsWith("name", "host", "port", "role", "state", "lag_bytes", "lag_ms", "replay_lsn");
        assertThat(columns.fields().get(2).typeOid()).isEqualTo(RowDescription.INT8_OID);
        List<String> pg2 = frames.get(2).decode(DataRow::decode).textValues();
        assertThat(pg2.subList(0, 5)).containsExactly("pg2", "127.0.0.1", "5433", "unknown", "down");
        assertThat(frames.get(3).decode(CommandComplete::decode).tag()).isEqualTo("SHOW");
    }

    @Test
    void showPoolsListsEveryPoolByNodeUserAndDatabase() {
        pools.add(new PoolStats(1, "pg2", "app", "shop", 3, 1, 2, 0, 50, 7, 4));
        pools.add(new PoolStats(0, "pg1", "app", "shop", 2, 2, 0, 1, 50, 2, 0));
        open();
        writeByteByByte(channel, encode(new Query("SHOW POOLS")));
        List<Frame> frames = drainFrames(channel);
        assertThat(frames).extracting(Frame::typeChar).containsExactly('T', 'D', 'D', 'C', 'Z');
        assertThat(frames.get(0).decode(RowDescription::decode).fields()).extracting(RowDescription.Field::name)
                .containsExactly("node", "user", "database", "active", "idle", "waiting", "max", "opened", "closed");
        assertThat(frames.get(1).decode(DataRow::decode).textValues())
                .containsExactly("pg1", "app", "shop", "2", "0", "1", "50", "2", "0");
        assertThat(frames.get(2).decode(DataRow::decode).textValues())
                .containsExactly("pg2", "app", "shop", "1", "2", "0", "50", "7", "4");

        writeByteByByte(channel, encode(new Query("SHOW NODES")));
        List<Frame> nodes = drainFrames(channel);
        // The connections column sums each node's pools.
        assertThat(nodes.get(1).decode(DataRow::decode).textValues().get(11)).isEqualTo("2");
        assertThat(nodes.get(2).decode(DataRow::decode).textValues().get(11)).isEqualTo("3");
    }

    @Test
    void showProxiesListsTheInstancesAndMarksThisOne() {
        open();
        writeByteByByte(channel, encode(new Query("SHOW PROXIES")));
        List<Frame> frames = drainFrames(channel);
        assertThat(frames).extracting(Frame::typeChar).containsExactly('T', 'D', 'C', 'Z');
        assertThat(frames.get(0).decode(RowDescription::decode).fields()).extracting(RowDescription.Field::name)
                .containsExactly("id", "address", "admin", "version", "started_at", "self", "leader", "advertised",
                        "slot");
        assertThat(frames.get(1).decode(DataRow::decode).textValues()).containsExactly("host-0000cafe",
                "127.0.0.1:6432", "127.0.0.1:6480", "0.1.0-TEST", "2026-01-02 03:04:05+00", "t", "t",
                "127.0.0.1:6432", null);
    }

    @Test
    void showClientsAndSetApplicationName() {
        clients.add(new ClientInfo(7, new InetSocketAddress("127.0.0.1", 40000), "app", "shop", "psql",
                "idle in transaction", "pg1", 0));
        open();
        writeByteByByte(channel, encode(new Query("SHOW CLIENTS")));
        List<Frame> frames = drainFrames(channel);
        assertThat(frames).extracting(Frame::typeChar).containsExactly('T', 'D', 'C', 'Z');
        assertThat(frames.get(1).decode(DataRow::decode).textValues()).containsExactly("7", "127.0.0.1", "40000",
                "app", "shop", "psql", "idle in transaction", "pg1", "1970-01-01 00:00:00+00");

        writeByteByByte(channel, encode(new Query("SET application_name = 'renamed'")));
        List<Frame> set = drainFrames(channel);
        assertThat(set).extracting(Frame::typeChar).containsExactly('S', 'C', 'Z');
        assertThat(set.get(0).decode(ParameterStatus::decode)).isEqualTo(new ParameterStatus("application_name", "renamed"));
        assertThat(applicationNames).containsExactly("renamed");
    }

    @Test
    void severalCommandsInOneQueryAndConfigMasksSecrets() {
        open();
        writeByteByByte(channel, encode(new Query("SHOW VERSION; SHOW CONFIG")));
        List<Frame> frames = drainFrames(channel);
        assertThat(frames.get(0).typeChar()).isEqualTo('T');
        assertThat(frames.get(1).decode(DataRow::decode).text(0)).startsWith("pgrelay ");
        assertThat(frames.get(2).decode(CommandComplete::decode).tag()).isEqualTo("SHOW");
        Map<String, String> config = new java.util.HashMap<>();
        for (Frame frame : frames.subList(4, frames.size() - 2)) {
            DataRow row = frame.decode(DataRow::decode);
            config.put(row.text(0), row.text(1));
        }
        assertThat(config).containsEntry("admin.token", ConfigListing.MASK)
                .containsEntry("monitor.password", ConfigListing.MASK)
                .containsEntry("auth.users.admin.password", ConfigListing.MASK)
                .containsEntry("nodes.pg2.port", "5433")
                .containsEntry("pool.max-size", "50")
                .containsEntry("pool.idle-timeout", "5min")
                .containsEntry("admin.console-users", "[admin]")
                .containsEntry("pool-mode", "session");
        assertThat(config.values()).doesNotContain("sekret-token", "monitor-pass", "hunter2");
        assertThat(frames.get(frames.size() - 1).typeChar()).isEqualTo('Z');
    }

    @Test
    void unknownCommandIsASyntaxErrorAndTheSessionGoesOn() {
        open();
        writeByteByByte(channel, encode(new Query("SELECT 1; SHOW VERSION")));
        List<Frame> frames = drainFrames(channel);
        assertThat(frames).extracting(Frame::typeChar).containsExactly('E', 'Z');
        ErrorResponse error = frames.get(0).decode(ErrorResponse::decode);
        assertThat(error.sqlState()).isEqualTo(SqlState.SYNTAX_ERROR);
        assertThat(error.isFatal()).isFalse();
        assertThat(error.fields().get((byte) 'H')).contains("SHOW NODES");

        writeByteByByte(channel, encode(new Query("SHOW HELP")));
        assertThat(drainFrames(channel)).extracting(Frame::typeChar).startsWith('T', 'D').endsWith('C', 'Z');
        assertThat(channel.isOpen()).isTrue();
    }

    @Test
    void extendedProtocolIsRefusedUntilSync() {
        open();
        writeByteByByte(channel, concat(
                encode(new Parse("", "SHOW NODES", new int[0]), new Bind("", "", new short[0], List.of(), new short[0]),
                        new Execute("", 0), Sync.INSTANCE),
                encode(new Query("SHOW VERSION"))));
        List<Frame> frames = drainFrames(channel);
        assertThat(frames).extracting(Frame::typeChar).containsExactly('E', 'Z', 'T', 'D', 'C', 'Z');
        assertThat(frames.get(0).decode(ErrorResponse::decode).sqlState()).isEqualTo(SqlState.FEATURE_NOT_SUPPORTED);
    }

    @Test
    void emptyQuery() {
        open();
        writeByteByByte(channel, encode(new Query(" ; ")));
        assertThat(drainFrames(channel)).extracting(Frame::typeChar).containsExactly('I', 'Z');
    }

    @Test
    void unknownMessageTypeIsFatal() {
        open();
        writeByteByByte(channel, new byte[] {'?', 0, 0, 0, 4});
        assertFatal(drainFrames(channel).get(0), SqlState.PROTOCOL_VIOLATION);
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void terminateCloses() {
        open();
        writeByteByByte(channel, encode(Terminate.INSTANCE));
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void mutatingCommandsWithoutOperationsAreNotAvailable() {
        open();
        for (String command : List.of("SWITCHOVER", "FAILOVER TO pg2", "DRAIN pg2", "ENABLE pg2", "FENCE pg2",
                "UNFENCE pg2", "REMOVE NODE pg2", "ADD NODE pg3 127.0.0.1 5434", "SET REPLICATION MODE sync")) {
            writeByteByByte(channel, encode(new Query(command)));
            List<Frame> frames = drainFrames(channel);
            assertThat(frames).as(command).extracting(Frame::typeChar).containsExactly('E', 'Z');
            ErrorResponse error = frames.get(0).decode(ErrorResponse::decode);
            assertThat(error.message()).as(command).isEqualTo("cluster operations are not available");
            assertThat(error.sqlState()).isEqualTo(SqlState.FEATURE_NOT_SUPPORTED);
        }
    }

    @Test
    void mutatingCommandsRunOffTheEventLoopAndAnswerTheSteps() throws Exception {
        Recording operations = new Recording();
        open(operations);
        writeByteByByte(channel, encode(new Query("SHOW VERSION; DRAIN pg2; SHOW VERSION")));
        // Sent while DRAIN runs: held until it is answered.
        writeByteByByte(channel, encode(new Query("FENCE nowhere")));
        List<Frame> frames = awaitReadies(2);
        assertThat(frames).extracting(Frame::typeChar)
                .containsExactly('T', 'D', 'C', 'T', 'D', 'C', 'T', 'D', 'C', 'Z', 'E', 'Z');
        assertThat(frames.get(3).decode(RowDescription::decode).fields()).extracting(RowDescription.Field::name)
                .containsExactly("step", "outcome", "millis");
        assertThat(frames.get(4).decode(DataRow::decode).textValues()).containsExactly("mark pg2 drained", "ok", "3");
        assertThat(frames.get(5).decode(CommandComplete::decode).tag()).isEqualTo("DRAIN");
        ErrorResponse notFound = frames.get(10).decode(ErrorResponse::decode);
        assertThat(notFound.sqlState()).isEqualTo(SqlState.UNDEFINED_OBJECT);
        assertThat(notFound.message()).isEqualTo("no node named nowhere");
        assertThat(operations.calls).containsExactly("drain pg2", "fence nowhere");
        assertThat(operations.threads).allSatisfy(name -> assertThat(name).startsWith("pgrelay-console-"));
    }

    @Test
    void failedOperationIsAnErrorWithTheSteps() throws Exception {
        Recording operations = new Recording();
        open(operations);
        writeByteByByte(channel, encode(new Query("switchover to pg2")));
        List<Frame> frames = awaitReadies(1);
        assertThat(frames).extracting(Frame::typeChar).containsExactly('E', 'Z');
        ErrorResponse error = frames.get(0).decode(ErrorResponse::decode);
        assertThat(error.sqlState()).isEqualTo(SqlState.OBJECT_NOT_IN_PREREQUISITE_STATE);
        assertThat(error.message()).isEqualTo("switchover failed: candidate lags");
        assertThat(error.fields().get((byte) 'D')).contains("wait for replay: failed: timeout (5000 ms)");
        assertThat(operations.calls).containsExactly("switchover pg2");
    }

    /** Runs the channel's tasks until {@code readies} ReadyForQuery were written (an operation's answer arrives as a task). */
    private List<Frame> awaitReadies(int readies) throws InterruptedException {
        List<Frame> frames = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (frames.stream().filter(f -> f.typeChar() == 'Z').count() < readies && System.nanoTime() < deadline) {
            Thread.sleep(5);
            channel.runPendingTasks();
            frames.addAll(drainFrames(channel));
        }
        return frames;
    }

    /** ClusterOperations that record their calls and answer fixed outcomes; nothing else is faked. */
    private static final class Recording implements ClusterOperations {
        final List<String> calls = new CopyOnWriteArrayList<>();
        final List<String> threads = new CopyOnWriteArrayList<>();

        private OperationResult record(String call) {
            calls.add(call);
            threads.add(Thread.currentThread().getName());
            return null;
        }

        @Override
        public OperationResult switchover(String candidate, String actor) {
            record("switchover " + candidate);
            return new OperationResult("switchover", false, "candidate lags",
                    List.of(new OperationResult.Step("hold new transactions", "ok", 1),
                            new OperationResult.Step("wait for replay", "failed: timeout", 5000)), 5001);
        }

        @Override
        public OperationResult failover(String candidate, String actor) {
            throw new UnsupportedOperationException();
        }

        @Override
        public OperationResult addNode(NodeConfig node, String actor) {
            throw new UnsupportedOperationException();
        }

        @Override
        public OperationResult removeNode(String name, String actor) {
            throw new UnsupportedOperationException();
        }

        @Override
        public OperationResult drain(String name, String actor) {
            record("drain " + name);
            assertThat(actor).startsWith("console:admin@");
            return new OperationResult("drain", true, null,
                    List.of(new OperationResult.Step("mark " + name + " drained", "ok", 3)), 3);
        }

        @Override
        public OperationResult enable(String name, String actor) {
            throw new UnsupportedOperationException();
        }

        @Override
        public OperationResult fence(String name, String actor) {
            record("fence " + name);
            throw new OperationException(OperationException.Kind.NOT_FOUND, "no node named " + name);
        }

        @Override
        public OperationResult unfence(String name, String actor) {
            throw new UnsupportedOperationException();
        }

        @Override
        public OperationResult setReplicationMode(String mode, Integer acks, String actor) {
            throw new UnsupportedOperationException();
        }

        @Override
        public ReplicationMode replicationMode() {
            return ReplicationMode.ASYNC;
        }
    }
}
