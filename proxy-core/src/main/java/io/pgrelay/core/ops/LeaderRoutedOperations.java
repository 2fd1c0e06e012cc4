package io.pgrelay.core.ops;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgrelay.core.config.ProxyConfig.NodeConfig;
import io.pgrelay.core.coordination.Leadership;
import io.pgrelay.core.ops.OperationException.Kind;

import java.util.function.Supplier;

/**
 * The cluster operations as every instance offers them: run here on the leader (and when running
 * alone), carried to the leader's admin API on a follower, so only one instance ever changes the
 * cluster. The REST API and the console both go through this, so a console command on a follower
 * reaches the leader the same way a REST call does. Blocks like the operations themselves.
 */
public final class LeaderRoutedOperations implements ClusterOperations {
    /** Request header: the id of the follower that carried the call; the leader runs it only while it leads. */
    public static final String FORWARDED_BY = "X-Pgrelay-Forwarded-By";
    /** Request header: who asked the follower, for the leader's audit log. */
    public static final String ACTOR = "X-Pgrelay-Actor";

    private final ClusterOperations local;
    private final Supplier<Leadership> leadership;
    private final Supplier<String> selfId;
    private final Supplier<String> token;
    private final LeaderClient client = new LeaderClient();

    /**
     * @param selfId this instance's id, supplied once it has joined (null before)
     * @param token  the admin token, the same on every instance: the leader checks it
     */
    public LeaderRoutedOperations(ClusterOperations local, Supplier<Leadership> leadership, Supplier<String> selfId,
                                  Supplier<String> token) {
        this.local = local;
        this.leadership = leadership;
        this.token = token;
        this.selfId = selfId;
    }

    /** Where a call runs: here, or on the leader through its admin API. */
    private sealed interface Target permits Here, There {
    }

    private record Here() implements Target {
    }

    private record There(Leadership leader) implements Target {
    }

    private Target target() {
        Leadership now = leadership.get();
        if (now.self()) {
            return new Here();
        }
        if (now.leaderId() == null) {
            throw new OperationException(Kind.UNAVAILABLE,
                    "no pgrelay instance leads at the moment (an election is under way); retry in a few seconds");
        }
        if (now.leader() == null) {
            throw new OperationException(Kind.UNAVAILABLE, "the leader " + now.leaderId()
                    + " is not registered (yet); retry in a few seconds");
        }
        String secret = token.get();
        if (secret == null || secret.isEmpty()) {
            throw new OperationException(Kind.UNAVAILABLE, "this instance is not the leader (" + now.leaderId()
                    + " is) and has no admin.token to carry the call to it; run it there or set admin.token");
        }
        return new There(now);
    }

    private OperationResult remote(Target target, String actor, String method, String path, ObjectNode body) {
        Leadership leader = ((There) target).leader();
        return client.call(leader.leader(), selfId.get(), token.get(), actor, method, path, body);
    }

    @Override
    public OperationResult switchover(String candidate, String actor) {
        Target target = target();
        return target instanceof Here ? local.switchover(candidate, actor)
                : remote(target, actor, "POST", "/switchover", LeaderClient.object().put("candidate", candidate));
    }

    @Override
    public OperationResult failover(String candidate, String actor) {
        Target target = target();
        return target instanceof Here ? local.failover(candidate, actor)
                : remote(target, actor, "POST", "/failover", LeaderClient.object().put("candidate", candidate));
    }

    @Override
    public OperationResult addNode(NodeConfig node, String actor) {
        Target target = target();
        return target instanceof Here ? local.addNode(node, actor)
                : remote(target, actor, "POST", "/nodes", LeaderClient.object().put("name", node.name())
                .put("host", node.host()).put("port", node.port()).put("weight", node.weight()));
    }

    @Override
    public OperationResult removeNode(String name, String actor) {
        Target target = target();
        return target instanceof Here ? local.removeNode(name, actor)
                : remote(target, actor, "DELETE", "/nodes/" + LeaderClient.segment(name), null);
    }

    @Override
    public OperationResult drain(String name, String actor) {
        Target target = target();
        return target instanceof Here ? local.drain(name, actor) : nodeAction(target, actor, name, "drain");
    }

    @Override
    public OperationResult enable(String name, String actor) {
        Target target = target();
        return target instanceof Here ? local.enable(name, actor) : nodeAction(target, actor, name, "enable");
    }

    @Override
    public OperationResult fence(String name, String actor) {
        Target target = target();
        return target instanceof Here ? local.fence(name, actor) : nodeAction(target, actor, name, "fence");
    }

    @Override
    public OperationResult unfence(String name, String actor) {
        Target target = target();
        return target instanceof Here ? local.unfence(name, actor) : nodeAction(target, actor, name, "unfence");
    }

    private OperationResult nodeAction(Target target, String actor, String name, String action) {
        return remote(target, actor, "POST", "/nodes/" + LeaderClient.segment(name) + "/" + action, null);
    }

    @Override
    public OperationResult setReplicationMode(String mode, Integer acks, String actor) {
        Target target = target();
        return target instanceof Here ? local.setReplicationMode(mode, acks, actor)
                : remote(target, actor, "PUT", "/replication-mode", LeaderClient.object().put("mode", mode)
                .put("acks", acks));
    }

    @Override
    public ReplicationMode replicationMode() {
        return local.replicationMode();
    }
}
