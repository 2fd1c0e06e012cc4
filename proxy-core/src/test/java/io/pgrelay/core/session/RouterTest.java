package io.pgrelay.core.session;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.pgrelay.core.classify.BuiltinCatalog;
import io.pgrelay.core.classify.Classification;
import io.pgrelay.core.classify.Classifier;
import io.pgrelay.core.classify.ClassifierConfig;
import io.pgrelay.core.classify.Route;
import io.pgrelay.core.cluster.ClusterState;
import io.pgrelay.core.cluster.Health;
import io.pgrelay.core.cluster.NodeStatus;
import io.pgrelay.core.cluster.Role;
import io.pgrelay.core.cluster.Topology;
import io.pgrelay.core.config.ProxyConfig.NodeConfig;
import io.pgrelay.core.config.ProxyConfig.RoutingConfig;
import io.pgrelay.core.route.ReplicaBalancer;
import io.pgrelay.protocol.message.FrontendMessage;
import io.pgrelay.protocol.message.Messages;
import io.pgrelay.protocol.message.frontend.Parse;
import io.pgrelay.protocol.message.frontend.Query;
import io.pgrelay.protocol.message.frontend.Sync;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The routing rules as a table: request × session state × topology → decision. No cluster, no Netty channel. */
class RouterTest {
    private static final ByteBufAllocator ALLOC = UnpooledByteBufAllocator.DEFAULT;
    private static final Classifier CLASSIFIER = new Classifier(BuiltinCatalog.get(), ClassifierConfig.defaults());
    private static final List<NodeConfig> NODES = List.of(new NodeConfig("pg1", "127.0.0.1", 5432, null),
            new NodeConfig("pg2", "127.0.0.1", 5433, null), new NodeConfig("pg3", "127.0.0.1", 5434, null));

    static final Topology HEALTHY = topology(Role.PRIMARY, Health.UP, Role.REPLICA, Health.UP, Role.REPLICA, Health.UP);
    static final Topology NO_PRIMARY = topology(Role.PRIMARY, Health.DOWN, Role.REPLICA, Health.UP, Role.REPLICA,
            Health.UP);
    static final Topology NO_REPLICA = topology(Role.PRIMARY, Health.UP, Role.REPLICA, Health.DOWN, Role.REPLICA,
            Health.DOWN);

    private static Topology topology(Role r1, Health h1, Role r2, Health h2, Role r3, Health h3) {
        Topology initial = new ClusterState(NODES).current();
        List<NodeStatus> nodes = new ArrayList<>();
        Role[] roles = {r1, r2, r3};
        Health[] health = {h1, h2, h3};
        for (int i = 0; i < 3; i++) {
            NodeStatus old = initial.node(i);
            nodes.add(new NodeStatus(i, old.config(), roles[i], health[i], 1, 0, 0, 0, 0, 0, 0, 0, null, null));
        }
        return new Topology(nodes, 1);
    }

    /** A session as the router sees it, each fact settable by a row. */
    static final class View implements SessionView {
        boolean inTransaction;
        boolean extendedOpen;
        int currentNode = -1;
        boolean deferredBegin;
        boolean deferredBeginReadOnly;
        boolean lost;
        boolean pinned;
        ProxySettings.RouteOverride override = ProxySettings.RouteOverride.AUTO;
        boolean defaultReadOnly;
        Map<String, Route> prepared = Map.of();
        boolean holdsBackend;
        boolean positionPending;
        boolean constrained;
        boolean primaryOnly;
        boolean satisfied = true;
        GlobalRead.Stage global = GlobalRead.Stage.OFF;
        int sticky = -1;
        boolean retry;
        boolean issuedProcess;

        @Override public boolean inTransaction() { return inTransaction; }
        @Override public boolean extendedOpen() { return extendedOpen; }
        @Override public int currentNode() { return currentNode; }
        @Override public boolean deferredBegin() { return deferredBegin; }
        @Override public boolean deferredBeginReadOnly() { return deferredBeginReadOnly; }
        @Override public boolean transactionLost() { return lost; }
        @Override public boolean pinned() { return pinned; }
        @Override public ProxySettings.RouteOverride routeOverride() { return override; }
        @Override public boolean defaultTransactionReadOnly() { return defaultReadOnly; }
        @Override public Route sqlPreparedRoute(String name) { return prepared.get(name); }
        @Override public boolean holdsBackend() { return holdsBackend; }
        @Override public boolean positionPending() { return positionPending; }
        @Override public boolean causalConstrained() { return constrained; }
        @Override public boolean causalPrimaryOnly() { return primaryOnly; }
        @Override public boolean causalSatisfied(NodeStatus replica) { return satisfied; }
        @Override public GlobalRead.Stage globalRead() { return global; }
        @Override public int stickyReplica() { return sticky; }
        @Override public boolean retryOnPrimary() { return retry; }
        @Override public boolean signalsIssuedProcess(Request request) { return issuedProcess; }
    }

    record Row(String name, List<FrontendMessage> messages, Consumer<View> session, Topology topology,
               RoutingConfig routing, boolean transactionPooling, Decision expected) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static final Consumer<View> PLAIN = v -> { };
    private static final RoutingConfig DEFAULTS = new RoutingConfig(null, null, null, null, null, null, null, null,
            null, null, null, null, null);
    private static final RoutingConfig REFUSE = new RoutingConfig(null, null, null, "error", null, null, null, null,
            null, null, null, null, null);

    private static Row row(String name, String sql, Consumer<View> session, Topology topology, Decision expected) {
        return new Row(name, List.of(new Query(sql)), session, topology, DEFAULTS, false, expected);
    }

    private static final Decision REPLICA = new Decision.Replica(1, false);
    private static final Decision PRIMARY_STATEMENT = new Decision.Primary(0, Decision.PrimaryCause.STATEMENT);
    private static final Decision PRIMARY_SESSION = new Decision.Primary(0, Decision.PrimaryCause.SESSION);

    static Stream<Row> rows() {
        String read = "SELECT relname FROM pg_class";
        String write = "CREATE TABLE t (a int)";
        return Stream.of(
                row("a read goes to a replica", read, PLAIN, HEALTHY, REPLICA),
                row("a write goes to the primary", write, PLAIN, HEALTHY, PRIMARY_STATEMENT),
                row("a per-server read goes to the primary", "SELECT * FROM pg_stat_activity", PLAIN, HEALTHY,
                        PRIMARY_STATEMENT),
                row("DISCARD runs where the session's state is", "DISCARD SEQUENCES", PLAIN, HEALTHY,
                        PRIMARY_STATEMENT),
                row("a pinned session reads on the primary", read, v -> v.pinned = true, HEALTHY, PRIMARY_SESSION),
                row("pgrelay.route = primary", read, v -> v.override = ProxySettings.RouteOverride.PRIMARY, HEALTHY,
                        PRIMARY_SESSION),
                row("a hint", "/* pgrelay:primary */ " + read, PLAIN, HEALTHY, PRIMARY_STATEMENT),
                row("an open transaction goes on where it runs", read, v -> {
                    v.inTransaction = true;
                    v.currentNode = 0;
                }, HEALTHY, new Decision.Continue(0)),
                row("an open extended batch goes on where it runs", write, v -> {
                    v.extendedOpen = true;
                    v.currentNode = 2;
                }, HEALTHY, new Decision.Continue(2)),
                row("pgrelay settings are answered locally", "SET pgrelay.route = primary", PLAIN, HEALTHY,
                        new Decision.Local(Decision.LocalAnswer.PROXY_SETTING)),
                row("SHOW pgrelay.last_lsn waits for the pending position", "SHOW pgrelay.last_lsn",
                        v -> v.positionPending = true, HEALTHY, new Decision.Wait(Decision.WaitCause.POSITION_PENDING)),
                row("a plain BEGIN is deferred", "BEGIN", PLAIN, HEALTHY,
                        new Decision.Local(Decision.LocalAnswer.DEFERRED_BEGIN)),
                row("a BEGIN not understood is not deferred", "BEGIN ISOLATION LEVEL SOMETHING", PLAIN, HEALTHY,
                        PRIMARY_STATEMENT),
                row("COMMIT of a deferred transaction is answered locally", "COMMIT", v -> {
                    v.deferredBegin = true;
                    v.inTransaction = true;
                }, HEALTHY, new Decision.Local(Decision.LocalAnswer.END_OF_DEFERRED)),
                row("COMMIT AND CHAIN of a deferred transaction goes to the server", "COMMIT AND CHAIN", v -> {
                    v.deferredBegin = true;
                    v.inTransaction = true;
                }, HEALTHY, PRIMARY_SESSION),
                row("the first read of a read-write transaction takes it to the primary", read, v -> {
                    v.deferredBegin = true;
                    v.inTransaction = true;
                }, HEALTHY, PRIMARY_SESSION),
                row("the first read of a read-only transaction takes it to a replica", read, v -> {
                    v.deferredBegin = true;
                    v.deferredBeginReadOnly = true;
                    v.inTransaction = true;
                }, HEALTHY, REPLICA),
                row("BEGIN READ ONLY in a multi-statement string runs on a replica", "BEGIN READ ONLY; " + read
                        + "; COMMIT", PLAIN, HEALTHY, REPLICA),
                row("with default_transaction_read_only a BEGIN may run on a replica", "BEGIN; " + read + "; COMMIT",
                        v -> v.defaultReadOnly = true, HEALTHY, REPLICA),
                row("no primary: the write waits", write, PLAIN, NO_PRIMARY,
                        new Decision.Wait(Decision.WaitCause.NO_PRIMARY)),
                row("no primary: a read still goes to a replica", read, PLAIN, NO_PRIMARY, REPLICA),
                row("no replica: the primary serves the read", read, PLAIN, NO_REPLICA,
                        new Decision.Primary(0, Decision.PrimaryCause.FALLBACK)),
                new Row("no replica and fallback: error", List.of(new Query(read)), PLAIN, NO_REPLICA, REFUSE, false,
                        new Decision.Refuse("57P03", "no replica is available for reads")),
                row("read-your-writes: only the primary has the write", read, v -> {
                    v.constrained = true;
                    v.primaryOnly = true;
                }, HEALTHY, new Decision.Primary(0, Decision.PrimaryCause.CAUSAL)),
                row("read-your-writes: no replica known to have it, one is asked", read, v -> {
                    v.constrained = true;
                    v.satisfied = false;
                }, HEALTHY, new Decision.Replica(1, true)),
                row("read-your-writes: a replica has it", read, v -> v.constrained = true, HEALTHY, REPLICA),
                row("global: a read first learns the primary's position", read,
                        v -> v.global = GlobalRead.Stage.NEEDS_POSITION, HEALTHY,
                        new Decision.Wait(Decision.WaitCause.GLOBAL_POSITION)),
                row("global: a write needs no position", write, v -> v.global = GlobalRead.Stage.NEEDS_POSITION,
                        HEALTHY, PRIMARY_STATEMENT),
                row("global: an open transaction goes on without one", read, v -> {
                    v.global = GlobalRead.Stage.NEEDS_POSITION;
                    v.inTransaction = true;
                    v.currentNode = 2;
                }, HEALTHY, new Decision.Continue(2)),
                row("global: no replica could serve it, so no position is learned", read,
                        v -> v.global = GlobalRead.Stage.NEEDS_POSITION, NO_REPLICA,
                        new Decision.Primary(0, Decision.PrimaryCause.FALLBACK)),
                row("global: a replica known to have replayed the position serves it", read, v -> {
                    v.global = GlobalRead.Stage.WAITING;
                    v.constrained = true;
                }, HEALTHY, REPLICA),
                row("global: no replica known to have it, one is asked", read, v -> {
                    v.global = GlobalRead.Stage.WAITING;
                    v.constrained = true;
                    v.satisfied = false;
                }, HEALTHY, new Decision.Replica(1, true)),
                row("global: the wait is over, a replica known to have the position still serves it", read, v -> {
                    v.global = GlobalRead.Stage.EXPIRED;
                    v.constrained = true;
                }, HEALTHY, REPLICA),
                row("global: a pending write position does not force the primary", read, v -> {
                    v.global = GlobalRead.Stage.NEEDS_POSITION;
                    v.constrained = true;
                    v.primaryOnly = true;
                    v.positionPending = true;
                }, HEALTHY, new Decision.Wait(Decision.WaitCause.GLOBAL_POSITION)),
                row("global: the wait is over, the primary serves it", read, v -> {
                    v.global = GlobalRead.Stage.EXPIRED;
                    v.constrained = true;
                    v.satisfied = false;
                }, HEALTHY, new Decision.Primary(0, Decision.PrimaryCause.GLOBAL)),
                row("global: every replica went away meanwhile, the primary serves it", read, v -> {
                    v.global = GlobalRead.Stage.WAITING;
                    v.constrained = true;
                }, NO_REPLICA, new Decision.Primary(0, Decision.PrimaryCause.GLOBAL)),
                row("global: the position is unknown, the primary serves it", read,
                        v -> v.global = GlobalRead.Stage.UNKNOWN, HEALTHY,
                        new Decision.Primary(0, Decision.PrimaryCause.GLOBAL)),
                row("global: the primary's position is unknown and no primary: wait", read,
                        v -> v.global = GlobalRead.Stage.UNKNOWN, NO_PRIMARY,
                        new Decision.Wait(Decision.WaitCause.NO_PRIMARY)),
                row("global: pgrelay.route = primary needs no position", read, v -> {
                    v.global = GlobalRead.Stage.NEEDS_POSITION;
                    v.override = ProxySettings.RouteOverride.PRIMARY;
                }, HEALTHY, PRIMARY_SESSION),
                row("the replica failed the request: the primary runs it", read, v -> v.retry = true, HEALTHY,
                        new Decision.Primary(0, Decision.PrimaryCause.RETRY)),
                row("session pooling keeps the session's replica", read, v -> v.sticky = 2, HEALTHY,
                        new Decision.Replica(2, false)),
                row("a lost transaction is answered locally", read, v -> {
                    v.lost = true;
                    v.inTransaction = true;
                }, HEALTHY, new Decision.Local(Decision.LocalAnswer.LOST_TRANSACTION)),
                row("pg_backend_pid() alone", "SELECT pg_backend_pid()", PLAIN, HEALTHY,
                        new Decision.Local(Decision.LocalAnswer.BACKEND_PID)),
                row("pg_backend_pid() in a query is the server's", "SELECT pg_backend_pid() + 0", PLAIN, HEALTHY,
                        PRIMARY_STATEMENT),
                row("terminating a session pgrelay issued the pid of", "SELECT pg_terminate_backend(4194400)",
                        v -> v.issuedProcess = true, HEALTHY, new Decision.Local(Decision.LocalAnswer.SIGNAL_BACKEND)),
                row("terminating a server process", "SELECT pg_terminate_backend(4194400)", PLAIN, HEALTHY,
                        PRIMARY_STATEMENT),
                row("EXECUTE of a read goes to a replica", "EXECUTE q(1)", v -> v.prepared = Map.of("q", Route.REPLICA),
                        HEALTHY, REPLICA),
                row("EXECUTE of a write goes to the primary", "EXECUTE q(1)",
                        v -> v.prepared = Map.of("q", Route.PRIMARY), HEALTHY, PRIMARY_STATEMENT),
                row("EXECUTE of an unknown statement goes to the primary", "EXECUTE q(1)", PLAIN, HEALTHY,
                        PRIMARY_STATEMENT),
                row("EXPLAIN EXECUTE plans on a replica", "EXPLAIN EXECUTE q(1)",
                        v -> v.prepared = Map.of("q", Route.PRIMARY), HEALTHY, REPLICA),
                new Row("transaction pooling answers Parse-only requests", List.of(new Parse("s1", read, new int[0]),
                        Sync.INSTANCE), PLAIN, HEALTHY, DEFAULTS, true,
                        new Decision.Local(Decision.LocalAnswer.LOCAL_PREPARE)),
                new Row("session pooling sends Parse-only requests", List.of(new Parse("s1", read, new int[0]),
                        Sync.INSTANCE), PLAIN, HEALTHY, DEFAULTS, false, REPLICA));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void decides(Row row) {
        View view = new View();
        row.session().accept(view);
        Router router = new Router(row.routing(), row.transactionPooling(), ReplicaBalancer.of("round-robin"),
                node -> node.isUp());
        Request request = request(row.messages());
        try {
            assertThat(router.decide(request, view, row.topology())).isEqualTo(row.expected());
        } finally {
            request.release();
        }
    }

    static Request request(List<FrontendMessage> messages) {
        SessionObjects objects = new SessionObjects();
        SessionClassifier classifier = new SessionClassifier() {
            @Override
            public Classification classify(ByteBuf buf, int index, int length, boolean scs) {
                return CLASSIFIER.classify(buf, index, length, scs);
            }

            @Override
            public void schemaChanged() {
            }

            @Override
            public void rememberPrimary(ByteBuf buf, int index, int length, boolean scs) {
            }
        };
        RequestAssembler assembler = new RequestAssembler(classifier, objects, () -> true, () -> "");
        Request request = new Request();
        for (FrontendMessage message : messages) {
            assembler.add(request, Messages.encode(ALLOC, message));
        }
        return request;
    }
}
