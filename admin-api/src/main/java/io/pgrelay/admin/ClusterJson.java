package io.pgrelay.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgrelay.core.cluster.Health;
import io.pgrelay.core.cluster.Lsn;
import io.pgrelay.core.cluster.NodeStatus;
import io.pgrelay.core.cluster.Role;
import io.pgrelay.core.cluster.Topology;
import io.pgrelay.core.coordination.Membership;
import io.pgrelay.core.ops.ClusterOperations;
import io.pgrelay.core.ops.OperationResult;
import io.pgrelay.core.ops.ProxyView;
import io.pgrelay.core.ops.ReplicationMode;
import io.pgrelay.core.reload.ReloadReport;

import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * The JSON the REST API answers with about the cluster: {@code GET /api/v1/cluster} (nodes,
 * their state, lag, bans, connections, the instances of a coordinated fleet), the replication
 * mode, an operation's result with the cluster after it, and a reload's report.
 */
final class ClusterJson {
    private final ProxyView proxy;
    private final ObjectMapper mapper;

    ClusterJson(ProxyView proxy, ObjectMapper mapper) {
        this.proxy = proxy;
        this.mapper = mapper;
    }

    ObjectNode reloadReport(ReloadReport report) {
        ObjectNode root = mapper.createObjectNode();
        root.put("changed", !report.changedNothing());
        ArrayNode applied = root.putArray("applied");
        for (ReloadReport.Applied key : report.applied()) {
            applied.addObject().put("key", key.key()).put("change", key.change());
        }
        ArrayNode restart = root.putArray("restartRequired");
        report.restartRequired().forEach(restart::add);
        return root;
    }

    ObjectNode mode() {
        ReplicationMode mode = proxy.operations().map(ClusterOperations::replicationMode).orElse(ReplicationMode.ASYNC);
        ObjectNode node = mapper.createObjectNode();
        node.put("mode", mode.mode());
        node.put("acks", mode.acks());
        return node;
    }

    ObjectNode cluster(Topology topology) {
        ObjectNode root = mapper.createObjectNode();
        NodeStatus primary = topology.primary();
        root.put("primary", primary != null ? primary.name() : null);
        root.set("replicationMode", mode());
        root.put("splitBrain", topology.splitBrain());
        if (topology.splitBrain()) {
            StringBuilder names = new StringBuilder();
            for (NodeStatus node : topology.claimedPrimaries()) {
                names.append(names.length() == 0 ? "" : ", ").append(node.name());
            }
            root.put("writes", "refused: " + names + " all claim to be primary on timeline "
                    + topology.claimedPrimaries().get(0).timeline()
                    + "; fence all but one (POST /api/v1/nodes/{name}/fence)");
        } else {
            root.put("writes", primary != null ? "accepted" : "refused: no primary");
        }
        Membership membership = proxy.membership();
        if (membership.coordinated()) {
            root.set("proxies", ProxiesJson.of(membership, proxy.leadership(), mapper));
            root.put("leader", proxy.leadership().leaderId());
            root.set("record", ProxiesJson.record(proxy.clusterRecord(), mapper));
        }
        Map<Integer, Integer> connections = new HashMap<>();
        for (ProxyView.PoolStats pool : proxy.pools()) {
            connections.merge(pool.nodeIndex(), pool.total(), Integer::sum);
        }
        ArrayNode nodes = root.putArray("nodes");
        for (NodeStatus node : topology.visibleNodes()) {
            ObjectNode n = nodes.addObject();
            n.put("name", node.name());
            n.put("host", node.host());
            n.put("port", node.port());
            n.put("role", node.role().label());
            n.put("state", state(node));
            n.put("lagBytes", node.lagBytes());
            n.put("lagMillis", node.lagMillis());
            n.put("replayLsn", node.replayLsn() != 0 ? Lsn.format(node.replayLsn()) : null);
            n.put("currentLsn", node.currentLsn() != 0 ? Lsn.format(node.currentLsn()) : null);
            n.put("timeline", node.timeline());
            n.put("weight", node.config().weight());
            n.put("connections", connections.getOrDefault(node.index(), 0));
            n.put("lastError", node.lastError());
            if (node.ban() != null) {
                ObjectNode ban = n.putObject("ban");
                ban.put("cause", node.ban().cause().label());
                ban.put("detail", node.ban().detail());
                ban.put("since", Instant.ofEpochMilli(node.ban().sinceMillis()).toString());
                ban.put("until", Instant.ofEpochMilli(node.ban().untilMillis()).toString());
            }
        }
        return root;
    }

    /**
     * up | down | lagging | fenced | drained: an up replica the read policy refuses is lagging, a
     * banned one is down (its "ban" says why and until when).
     */
    private String state(NodeStatus node) {
        if (node.health() == Health.UP && node.ban() != null) {
            return Health.DOWN.label();
        }
        if (node.health() == Health.UP && node.role() == Role.REPLICA && !proxy.canRead(node)) {
            return Health.LAGGING.label();
        }
        return node.health().label();
    }

    ObjectNode result(OperationResult result) {
        ObjectNode root = mapper.createObjectNode();
        root.put("operation", result.operation());
        root.put("success", result.success());
        if (result.error() != null) {
            root.put("error", result.error());
        }
        root.put("durationMillis", result.durationMillis());
        ArrayNode steps = root.putArray("steps");
        for (OperationResult.Step step : result.steps()) {
            ObjectNode s = steps.addObject();
            s.put("name", step.name());
            s.put("outcome", step.outcome());
            s.put("millis", step.millis());
        }
        root.set("cluster", cluster(proxy.topology()));
        return root;
    }
}
