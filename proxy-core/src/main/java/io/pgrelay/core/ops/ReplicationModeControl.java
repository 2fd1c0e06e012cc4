package io.pgrelay.core.ops;

import io.pgrelay.core.cluster.ClusterState;
import io.pgrelay.core.cluster.Health;
import io.pgrelay.core.cluster.NodeStatus;
import io.pgrelay.core.cluster.Role;
import io.pgrelay.core.cluster.Topology;
import io.pgrelay.core.config.ProxyConfig.NodeConfig;
import io.pgrelay.core.ops.OperationException.Kind;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * The replication mode in force (async, semi-sync with N acks, sync) and how it is put on the
 * primary: {@code synchronous_standby_names} naming the standbys by their {@code application_name}
 * (which {@link StandbySql#repoint} sets to the node name). Failover, switchover and node changes
 * apply it again to the standbys they leave.
 */
final class ReplicationModeControl {
    private static final Logger log = LoggerFactory.getLogger(PgClusterOperations.class);

    private final ClusterState cluster;
    private final StandbySql sql;
    private volatile ReplicationMode mode = ReplicationMode.ASYNC;

    ReplicationModeControl(ClusterState cluster, StandbySql sql) {
        this.cluster = cluster;
        this.sql = sql;
    }

    ReplicationMode mode() {
        return mode;
    }

    /** Takes the mode the cluster record names (another instance set it); changes nothing on the nodes. */
    void adopt(ReplicationMode recorded) {
        if (!recorded.equals(mode)) {
            log.info("replication mode {} (acks {}) from the cluster record", recorded.mode(), recorded.acks());
            mode = recorded;
        }
    }

    /** Sets the mode on the primary (the caller holds the operation lock). */
    OperationResult set(String requested, Integer acks, String actor) {
        Topology topology = cluster.current();
        NodeStatus primary = topology.primary();
        if (primary == null) {
            throw new OperationException(Kind.UNAVAILABLE, "no primary: cannot set the replication mode");
        }
        List<NodeStatus> standbys = standbys(topology, primary, null);
        ReplicationMode wanted = ReplicationModes.parse(requested, acks, standbys.size());
        Steps steps = new Steps("replication-mode " + wanted.mode()
                + (ReplicationModes.SEMI_SYNC.equals(wanted.mode()) ? " " + wanted.acks() : ""), actor);
        try {
            for (NodeStatus standby : standbys) {
                if (standby.isUp()) {
                    steps.attempt("application_name of " + standby.name(),
                            () -> sql.ensureApplicationName(standby, primary.config()));
                }
            }
            List<String> names = standbys.stream().map(NodeStatus::name).toList();
            ReplicationMode previous = mode;
            mode = wanted;
            try {
                steps.run("synchronous_standby_names on " + primary.name(), () -> apply(primary.config(), names));
            } catch (Steps.Failed e) {
                mode = previous;
                throw e;
            }
            steps.attempt("standbys streaming from " + primary.name(), () -> sql.streaming(primary.config()));
            log.info("replication mode is now {} (acks {})", wanted.mode(), wanted.acks());
            return steps.success();
        } catch (Steps.Failed e) {
            return steps.failure(e.getMessage());
        }
    }

    /** The standbys the mode applies to: every node but the primary, the excluded one, fenced and removed ones. */
    static List<NodeStatus> standbys(Topology topology, NodeStatus primary, NodeStatus exclude) {
        List<NodeStatus> standbys = new ArrayList<>();
        for (NodeStatus node : topology.nodes()) {
            if (node.index() == primary.index() || exclude != null && node.index() == exclude.index()
                    || node.health() == Health.FENCED || node.health() == Health.REMOVED
                    || node.role() == Role.PRIMARY) {
                continue;
            }
            standbys.add(node);
        }
        return standbys;
    }

    /** The standby names once {@code newPrimary} replaces {@code old} (which is left out). */
    List<String> standbyNamesAfter(NodeStatus newPrimary, NodeStatus old) {
        return standbys(cluster.current(), newPrimary, old).stream().map(NodeStatus::name).toList();
    }

    /** Sets synchronous_standby_names for the mode in force; works on a standby too (it applies once promoted). */
    String apply(NodeConfig node, List<String> names) throws SQLException {
        ReplicationMode current = mode;
        String value = ReplicationModes.standbyNames(current, names);
        try (Connection c = sql.connect(node)) {
            if (!ReplicationModes.ASYNC.equals(current.mode())) {
                try (Statement st = c.createStatement()) {
                    st.execute("ALTER SYSTEM SET synchronous_commit = 'on'");
                }
            }
            NodeSql.setSystem(c, "synchronous_standby_names", value);
        }
        return current.mode() + ": synchronous_standby_names = '" + value + "'";
    }

    /** Keeps synchronous_standby_names in step with the replicas after the node list changed. */
    void reapply(Steps steps) {
        ReplicationMode current = mode;
        NodeStatus primary = cluster.current().primary();
        if (ReplicationModes.ASYNC.equals(current.mode()) || primary == null) {
            return;
        }
        List<String> names = standbyNamesAfter(primary, null);
        steps.attempt("replication mode on " + primary.name(), () -> apply(primary.config(), names));
    }
}
