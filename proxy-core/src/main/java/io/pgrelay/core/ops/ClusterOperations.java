package io.pgrelay.core.ops;

import io.pgrelay.core.config.ProxyConfig.NodeConfig;

/**
 * What operators may do to the cluster at runtime, shared by the REST API and the SQL
 * console. Every call names its {@code actor} (token holder, console user) for the audit
 * log. Calls block (they talk to PostgreSQL over JDBC): never call them on an event loop.
 * Invalid requests throw {@link OperationException}; an operation that ran but did not
 * succeed returns a result with {@code success == false} and the steps it took.
 */
public interface ClusterOperations {
    /** Planned primary change with no data loss; {@code candidate} null = the most advanced replica. */
    OperationResult switchover(String candidate, String actor);

    /** Promotes a replica now (the primary is presumed dead); {@code candidate} null = best replica. */
    OperationResult failover(String candidate, String actor);

    OperationResult addNode(NodeConfig node, String actor);

    OperationResult removeNode(String name, String actor);

    /** No new work for the node; existing sessions finish. */
    OperationResult drain(String name, String actor);

    /** Undoes {@link #drain}. */
    OperationResult enable(String name, String actor);

    /** Never route to the node until unfenced. */
    OperationResult fence(String name, String actor);

    OperationResult unfence(String name, String actor);

    /** {@code mode}: async | semi-sync | sync; {@code acks} for semi-sync (null = 1). */
    OperationResult setReplicationMode(String mode, Integer acks, String actor);

    /** The replication mode in force, e.g. {@code async}, {@code semi-sync}, {@code sync}. */
    ReplicationMode replicationMode();
}
