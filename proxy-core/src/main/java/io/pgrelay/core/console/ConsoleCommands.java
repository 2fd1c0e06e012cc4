package io.pgrelay.core.console;

import io.pgrelay.core.config.Version;
import io.pgrelay.core.cluster.Health;
import io.pgrelay.core.cluster.Lsn;
import io.pgrelay.core.cluster.NodeStatus;
import io.pgrelay.core.cluster.Topology;
import io.pgrelay.core.config.ConfigException;
import io.pgrelay.core.config.ProxyConfig.NodeConfig;
import io.pgrelay.core.coordination.Leadership;
import io.pgrelay.core.coordination.Membership;
import io.pgrelay.core.coordination.ProxyMember;
import io.pgrelay.core.metrics.ProxyMetrics;
import io.pgrelay.core.ops.ClusterOperations;
import io.pgrelay.core.ops.OperationException;
import io.pgrelay.core.ops.OperationResult;
import io.pgrelay.core.ops.ProxyView;
import io.pgrelay.core.ops.ProxyView.ClientInfo;
import io.pgrelay.core.ops.ProxyView.PoolStats;
import io.pgrelay.protocol.SqlState;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

/**
 * What each console command answers. The SHOW commands read immutable snapshots and
 * counters (cheap, run on the event loop); the others call {@link ClusterOperations},
 * which blocks, so {@link #mutate} must run on a thread of its own.
 */
final class ConsoleCommands {
    static final String VERSION = Version.CURRENT;
    private static final DateTimeFormatter TIMESTAMP =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ssx").withZone(ZoneOffset.UTC);

    private final ProxyView proxy;

    ConsoleCommands(ProxyView proxy) {
        this.proxy = proxy;
    }

    ConsoleResult show(ConsoleCommand command) {
        return switch (command.verb()) {
            case SHOW_NODES -> nodes();
            case SHOW_POOLS -> pools();
            case SHOW_CLIENTS -> clients();
            case SHOW_STATS -> stats();
            case SHOW_PROXIES -> proxies();
            case SHOW_CONFIG -> config();
            case SHOW_VERSION -> new ConsoleResult("SHOW").text("version").row("pgrelay " + VERSION);
            case SHOW_HELP -> help();
            case SET_PARAMETER -> ConsoleResult.commandOnly("SET");
            default -> throw new IllegalArgumentException(command.verb() + " is not a SHOW command");
        };
    }

    private ConsoleResult nodes() {
        Topology topology = proxy.topology();
        ConsoleResult result = new ConsoleResult("SHOW")
                .text("name", "host").number("port").text("role", "state").number("lag_bytes", "lag_ms")
                .text("replay_lsn", "current_lsn").number("timeline", "weight", "connections").text("last_error");
        for (NodeStatus node : topology.visibleNodes()) {
            String state = node.health() == Health.UP && node.ban() != null ? Health.DOWN.label() : node.health().label();
            result.row(node.name(), node.host(), node.port(), node.role().label(), state,
                    node.lagBytes(), node.lagMillis(), lsn(node.replayLsn()), lsn(node.currentLsn()),
                    node.timeline(), node.config().weight(), connections(node.name()), node.lastError());
        }
        return result;
    }

    private static String lsn(long lsn) {
        return lsn != 0 ? Lsn.format(lsn) : null;
    }

    private long connections(String node) {
        long sum = 0;
        for (PoolStats pool : pools(node)) {
            sum += pool.total();
        }
        return sum;
    }

    private List<PoolStats> pools(String node) {
        List<PoolStats> list = new ArrayList<>();
        for (PoolStats pool : proxy.pools()) {
            if (node == null || pool.node().equals(node)) {
                list.add(pool);
            }
        }
        list.sort(Comparator.comparing(PoolStats::node).thenComparing(PoolStats::user)
                .thenComparing(PoolStats::database));
        return list;
    }

    private ConsoleResult pools() {
        ConsoleResult result = new ConsoleResult("SHOW").text("node", "user", "database")
                .number("active", "idle", "waiting", "max", "opened", "closed");
        for (PoolStats pool : pools(null)) {
            result.row(pool.node(), pool.user(), pool.database(), pool.active(), pool.idle(), pool.waiting(),
                    pool.maxSize(), pool.opened(), pool.closed());
        }
        return result;
    }

    private ConsoleResult clients() {
        ConsoleResult result = new ConsoleResult("SHOW").number("id").text("address").number("port")
                .text("user", "database", "application_name", "state", "node", "connected_since");
        for (ClientInfo client : proxy.clients()) {
            SocketAddress address = client.address();
            String host = address instanceof InetSocketAddress inet ? inet.getHostString() : String.valueOf(address);
            Integer port = address instanceof InetSocketAddress inet ? inet.getPort() : null;
            result.row(client.id(), host, port, client.user(), client.database(), client.applicationName(),
                    client.state(), client.node(), TIMESTAMP.format(Instant.ofEpochMilli(client.connectedAtMillis())));
        }
        return result;
    }

    private ConsoleResult stats() {
        ConsoleResult result = new ConsoleResult("SHOW").text("node")
                .number("statements", "primary_only", "replica_safe", "bytes_sent", "bytes_received",
                        "connections_opened", "connections_closed", "up_transitions", "down_transitions");
        for (NodeStatus node : proxy.topology().visibleNodes()) {
            ProxyMetrics.NodeStats s = proxy.nodeStats(node.name());
            if (s != null) {
                result.row(s.node(), s.statements(), s.primaryOnly(), s.replicaSafe(), s.bytesSent(),
                        s.bytesReceived(), s.connectionsOpened(), s.connectionsClosed(), s.upTransitions(),
                        s.downTransitions());
            }
        }
        return result;
    }

    /** Without coordination, this instance alone. */
    private ConsoleResult proxies() {
        Membership membership = proxy.membership();
        Leadership leadership = proxy.leadership();
        ConsoleResult result = new ConsoleResult("SHOW")
                .text("id", "address", "admin", "version", "started_at", "self", "leader", "advertised", "slot");
        for (ProxyMember member : membership.members()) {
            result.row(member.id(), member.address(), member.admin(), member.version(),
                    TIMESTAMP.format(member.startedAt()), membership.isSelf(member) ? "t" : "f",
                    leadership.isLeader(member) ? "t" : "f", member.advertised(),
                    member.hasSlot() ? member.slot() : null);
        }
        return result;
    }

    private ConsoleResult config() {
        ConsoleResult result = new ConsoleResult("SHOW").text("key", "value");
        for (Map.Entry<String, String> entry : ConfigListing.of(proxy.config()).entrySet()) {
            result.row(entry.getKey(), entry.getValue());
        }
        return result;
    }

    private static ConsoleResult help() {
        ConsoleResult result = new ConsoleResult("SHOW").text("command", "description");
        for (ConsoleCommand.Verb verb : ConsoleCommand.Verb.values()) {
            if (verb == ConsoleCommand.Verb.SET_PARAMETER) {
                continue;
            }
            result.row(verb.syntax, verb.description);
        }
        return result;
    }

    /**
     * Runs a mutating command through the cluster operations and turns the outcome into rows
     * (one per step) or an error. Blocks: never call it on an event loop.
     */
    ConsoleResult mutate(ConsoleCommand command, String actor) {
        ClusterOperations operations = operations(command);
        OperationResult outcome;
        try {
            outcome = switch (command.verb()) {
                case SWITCHOVER -> operations.switchover(command.name(), actor);
                case FAILOVER -> operations.failover(command.name(), actor);
                case DRAIN -> operations.drain(command.name(), actor);
                case ENABLE -> operations.enable(command.name(), actor);
                case FENCE -> operations.fence(command.name(), actor);
                case UNFENCE -> operations.unfence(command.name(), actor);
                case REMOVE_NODE -> operations.removeNode(command.name(), actor);
                case ADD_NODE -> operations.addNode(
                        new NodeConfig(command.name(), command.host(), command.port(), command.weight()), actor);
                case SET_REPLICATION_MODE -> operations.setReplicationMode(command.mode(), command.acks(), actor);
                default -> throw new IllegalArgumentException(command.verb() + " is not a mutating command");
            };
        } catch (OperationException e) {
            throw new ConsoleException(sqlState(e.kind()), e.getMessage());
        } catch (ConfigException e) {
            throw new ConsoleException(SqlState.INVALID_PARAMETER_VALUE, e.getMessage());
        }
        if (!outcome.success()) {
            StringJoiner steps = new StringJoiner("\n");
            for (OperationResult.Step step : outcome.steps()) {
                steps.add(step.name() + ": " + step.outcome() + " (" + step.millis() + " ms)");
            }
            throw new ConsoleException(SqlState.OBJECT_NOT_IN_PREREQUISITE_STATE,
                    outcome.operation() + " failed: " + outcome.error(), steps.toString(), null);
        }
        ConsoleResult result = new ConsoleResult(command.verb().tag()).text("step", "outcome").number("millis");
        for (OperationResult.Step step : outcome.steps()) {
            result.row(step.name(), step.outcome(), step.millis());
        }
        return result;
    }

    /** The cluster operations, or the "not available" error; cheap, so callers check before leaving the loop. */
    ClusterOperations operations(ConsoleCommand command) {
        return proxy.operations().orElseThrow(() -> new ConsoleException(SqlState.FEATURE_NOT_SUPPORTED,
                "cluster operations are not available",
                "this pgrelay runs without cluster operations, so " + command.verb().tag() + " cannot run", null));
    }

    private static String sqlState(OperationException.Kind kind) {
        return switch (kind) {
            case BAD_REQUEST -> SqlState.INVALID_PARAMETER_VALUE;
            case NOT_FOUND -> SqlState.UNDEFINED_OBJECT;
            case CONFLICT, UNAVAILABLE -> SqlState.OBJECT_NOT_IN_PREREQUISITE_STATE;
        };
    }
}
