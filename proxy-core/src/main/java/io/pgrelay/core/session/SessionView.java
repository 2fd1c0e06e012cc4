package io.pgrelay.core.session;

import io.pgrelay.core.cluster.NodeStatus;

/** What the {@link Router} reads of a session to decide where its next request goes. */
interface SessionView {
    /** The server's transaction status says a transaction block is open (or failed). */
    boolean inTransaction();

    /** Extended-protocol messages went out without a Sync yet: the next ones must follow them. */
    boolean extendedOpen();

    /** The node whose backend serves the session's open transaction or batch and can go on; -1 for none. */
    int currentNode();

    /** A BEGIN pgrelay answered itself waits to be sent with the transaction's first statement. */
    boolean deferredBegin();

    boolean deferredBeginReadOnly();

    /** The transaction's server died and the client has not ended the transaction yet. */
    boolean transactionLost();

    /** State that lives on the primary only (temp tables, LISTEN, ...). */
    boolean pinned();

    ProxySettings.RouteOverride routeOverride();

    /** {@code default_transaction_read_only} as the client sees it. */
    boolean defaultTransactionReadOnly();

    /** Where a statement prepared with SQL PREPARE may run; null when the session has no such statement. */
    io.pgrelay.core.classify.Route sqlPreparedRoute(String name);

    /** The session holds a backend (so it prepares there, not locally). */
    boolean holdsBackend();

    // ---- read-your-writes

    /** A write committed and its WAL position is still being learned. */
    boolean positionPending();

    /** Reads are bound to a WAL position (causal after a write, or pgrelay.min_lsn). */
    boolean causalConstrained();

    /** Only the primary is known to have the session's writes. */
    boolean causalPrimaryOnly();

    /** Whether this replica is known to have replayed the session's writes. */
    boolean causalSatisfied(NodeStatus replica);

    /** Where the current read stands under global consistency ({@link GlobalRead.Stage#OFF} when not global). */
    GlobalRead.Stage globalRead();

    /** Session pooling: the replica the session reads from while it stays eligible; -1 for none. */
    int stickyReplica();

    /** The replica chosen for the request before could not serve it. */
    boolean retryOnPrimary();

    /** The pg_cancel_backend / pg_terminate_backend in the request names a process id pgrelay issued. */
    boolean signalsIssuedProcess(Request request);
}
