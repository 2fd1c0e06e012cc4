package io.pgrelay.core.session;

import io.pgrelay.core.classify.Classification;
import io.pgrelay.core.classify.Route;
import io.pgrelay.core.classify.SessionEffect;
import io.pgrelay.core.classify.StatementFacts;
import io.pgrelay.core.classify.Trait;
import io.pgrelay.core.classify.TransactionModes;
import io.pgrelay.core.cluster.NodeStatus;
import io.pgrelay.core.cluster.Role;
import io.pgrelay.core.cluster.Topology;
import io.pgrelay.core.config.ProxyConfig.RoutingConfig;
import io.pgrelay.core.route.ReplicaBalancer;
import io.pgrelay.protocol.SqlState;

/**
 * Decides where a request goes, from what the request is, what the session holds and the
 * topology: a function without side effects but the balancer's rotation, so that its rules can
 * be tested as tables. When unsure: the primary.
 */
final class Router {
    private final boolean readsToReplicas;
    private final boolean firstStatementTransactions;
    private final boolean refuseWithoutReplica;
    private final boolean transactionPooling;
    private final ReplicaBalancer balancer;
    private final ReplicaBalancer.ReadEligibility eligibility;
    private final Decision.Cache decisions = Decision.Cache.create();

    Router(RoutingConfig routing, boolean transactionPooling, ReplicaBalancer balancer,
           ReplicaBalancer.ReadEligibility eligibility) {
        this.readsToReplicas = routing.readsToReplicas();
        this.firstStatementTransactions = "first-statement".equals(routing.transactionReads());
        this.refuseWithoutReplica = "error".equals(routing.fallback());
        this.transactionPooling = transactionPooling;
        this.balancer = balancer;
        this.eligibility = eligibility;
    }

    Decision decide(Request request, SessionView session, Topology topology) {
        Decision local = localAnswer(request, session);
        if (local != null) {
            return local;
        }
        if (!session.deferredBegin()) {
            int current = session.currentNode();
            if (current >= 0 && (session.inTransaction() || session.extendedOpen())) {
                return decisions.next(current);
            }
            if (deferrableBegin(request, session)) {
                return Decision.Cache.local(Decision.LocalAnswer.DEFERRED_BEGIN);
            }
        }
        NodeStatus primary = topology.primary();
        if (primaryReason(request, session) != null) {
            return primary(primary, Decision.PrimaryCause.STATEMENT);
        }
        if (sessionNeedsPrimary(request, session)) {
            return primary(primary, Decision.PrimaryCause.SESSION);
        }
        if (session.retryOnPrimary()) {
            return primary(primary, Decision.PrimaryCause.RETRY);
        }
        // A global read's position covers the session's own writes, learned or not.
        if (session.causalConstrained() && session.causalPrimaryOnly()
                && session.globalRead() == GlobalRead.Stage.OFF) {
            return primary(primary, Decision.PrimaryCause.CAUSAL);
        }
        return replica(topology, session, primary);
    }

    private Decision primary(NodeStatus primary, Decision.PrimaryCause cause) {
        return primary == null ? Decision.Cache.waitFor(Decision.WaitCause.NO_PRIMARY)
                : decisions.primary(primary.index(), cause);
    }

    private Decision localAnswer(Request request, SessionView session) {
        if (session.transactionLost()) {
            return Decision.Cache.local(Decision.LocalAnswer.LOST_TRANSACTION);
        }
        if (request.hasEffect(SessionEffect.ProxySetting.class)) {
            // SHOW pgrelay.last_lsn right after a write must see that write's position.
            return session.positionPending() ? Decision.Cache.waitFor(Decision.WaitCause.POSITION_PENDING)
                    : Decision.Cache.local(Decision.LocalAnswer.PROXY_SETTING);
        }
        if (request.complete() && request.soleEffect(SessionEffect.BackendPid.class) != null) {
            return Decision.Cache.local(Decision.LocalAnswer.BACKEND_PID);
        }
        if (request.complete() && request.soleEffect(SessionEffect.SignalBackend.class) != null
                && session.signalsIssuedProcess(request)) {
            return Decision.Cache.local(Decision.LocalAnswer.SIGNAL_BACKEND);
        }
        if (localPrepare(request, session)) {
            return Decision.Cache.local(Decision.LocalAnswer.LOCAL_PREPARE);
        }
        if (session.deferredBegin() && endsDeferred(request)) {
            return Decision.Cache.local(Decision.LocalAnswer.END_OF_DEFERRED);
        }
        return null;
    }

    /**
     * Transaction pooling: named Parse messages and a Sync outside a transaction (libpq's
     * PQprepare) are answered by pgrelay and prepared on a backend when first bound. Holding a
     * backend for them could deadlock clients that prepare synchronously (pgbench -M prepared
     * runs many clients per thread: one waiting for a backend stalls the others, which hold
     * backends in their transactions). Trade-off: an invalid statement is reported at its first
     * Bind instead of at Parse.
     */
    private boolean localPrepare(Request request, SessionView session) {
        return transactionPooling && !request.parseNeedsServer && !session.extendedOpen() && !session.inTransaction()
                && !session.deferredBegin() && !session.holdsBackend() && request.onlyParses();
    }

    /**
     * A simple Query that is only a BEGIN pgrelay understands fully, outside a transaction: held
     * back and sent with the transaction's first statement, which saves a round trip and lets
     * that statement decide where the transaction runs.
     */
    private static boolean deferrableBegin(Request request, SessionView session) {
        if (!request.simpleQuery() || session.inTransaction()) {
            return false;
        }
        SessionEffect.Begin begin = request.soleEffect(SessionEffect.Begin.class);
        return begin != null && begin.modes().isolation() != TransactionModes.Isolation.UNKNOWN;
    }

    /** A simple Query ending a transaction that was never sent to a server. */
    private static boolean endsDeferred(Request request) {
        SessionEffect.EndTransaction end = request.soleEffect(SessionEffect.EndTransaction.class);
        return request.simpleQuery() && end != null && !end.chain() && end.ending() != SessionEffect.Ending.PREPARE;
    }

    /** Why a statement of the request needs the primary whatever the session; null when none does. */
    static String primaryReason(Request request, SessionView session) {
        if (request.functionCall()) {
            return "function call";
        }
        if (request.unknownStatement != null) {
            return "unknown prepared statement " + request.unknownStatement;
        }
        String reason = primaryReason(request.texts, session);
        return reason != null ? reason : primaryReason(request.usedStatements, session);
    }

    private static String primaryReason(java.util.List<Classification> classifications, SessionView session) {
        for (int i = 0; i < classifications.size(); i++) { // indexed: no iterator per request
            Classification text = classifications.get(i);
            if (text.route() != Route.PRIMARY) {
                continue;
            }
            if (!text.has(Trait.SESSION_OBJECT)) {
                return text.reason();
            }
            String reason = sessionObjectReason(text, session);
            if (reason != null) {
                return reason;
            }
        }
        return null;
    }

    /** A string naming session objects: the route of each statement, EXECUTE resolved by what the session prepared. */
    private static String sessionObjectReason(Classification text, SessionView session) {
        java.util.List<StatementFacts> statements = text.statements();
        for (int i = 0; i < statements.size(); i++) {
            StatementFacts statement = statements.get(i);
            if (statement.route() == Route.PRIMARY) {
                return statement.reason();
            }
            SessionEffect.Execute execute = statement.effect(SessionEffect.Execute.class);
            if (execute != null && statement.has(Trait.SESSION_OBJECT)) {
                Route prepared = session.sqlPreparedRoute(execute.name());
                if (prepared == null) {
                    return "EXECUTE of " + execute.name() + ", which this session did not prepare";
                }
                if (prepared == Route.PRIMARY) {
                    return "EXECUTE " + execute.name() + " (prepared as a write)";
                }
            }
        }
        return null;
    }

    private boolean sessionNeedsPrimary(Request request, SessionView session) {
        if (session.pinned() || request.has(Trait.HINT_PRIMARY) || !readsToReplicas || request.terminator == 'H'
                || session.routeOverride() == ProxySettings.RouteOverride.PRIMARY) {
            return true;
        }
        if (session.deferredBegin()) {
            return !session.deferredBeginReadOnly() && !deferredTransactionMayUseReplica(request, session);
        }
        SessionEffect.Begin begin = request.effect(SessionEffect.Begin.class);
        return begin != null && !begin.modes().readOnly() && !session.defaultTransactionReadOnly();
    }

    /** After a deferred BEGIN: may this first statement take the transaction to a replica? */
    private boolean deferredTransactionMayUseReplica(Request request, SessionView session) {
        SessionEffect.SetTransaction setTransaction = request.effect(SessionEffect.SetTransaction.class);
        if (setTransaction != null) {
            return setTransaction.modes().readOnly();
        }
        return session.defaultTransactionReadOnly() || firstStatementTransactions
                || session.routeOverride() == ProxySettings.RouteOverride.REPLICA;
    }

    private Decision replica(Topology topology, SessionView session, NodeStatus primary) {
        GlobalRead.Stage global = session.globalRead();
        if (global == GlobalRead.Stage.NEEDS_POSITION || global == GlobalRead.Stage.POSITION_PENDING) {
            if (anyReadable(topology)) {
                return Decision.Cache.waitFor(Decision.WaitCause.GLOBAL_POSITION);
            }
            // No replica could serve it anyway: no position to learn, the fallback applies.
        } else if (global == GlobalRead.Stage.UNKNOWN) {
            return primary(primary, Decision.PrimaryCause.GLOBAL);
        }
        boolean causal = session.causalConstrained();
        ReplicaBalancer.ReadEligibility readable = causal
                ? node -> eligibility.canRead(node) && session.causalSatisfied(node) : eligibility;
        int sticky = session.stickyReplica();
        if (!transactionPooling && sticky >= 0 && sticky < topology.nodes().size()) {
            NodeStatus node = topology.node(sticky);
            if (node.role() == Role.REPLICA && readable.canRead(node)) {
                return decisions.replica(sticky, false);
            }
        }
        NodeStatus replica = balancer.pick(topology, readable);
        if (replica != null) {
            return decisions.replica(replica.index(), false);
        }
        if (causal && global != GlobalRead.Stage.EXPIRED) {
            // No replica is known to have the session's writes (or the read's position): ask one.
            replica = balancer.pick(topology, eligibility);
            if (replica != null) {
                return decisions.replica(replica.index(), true);
            }
        }
        if (global == GlobalRead.Stage.WAITING || global == GlobalRead.Stage.EXPIRED) {
            return primary(primary, Decision.PrimaryCause.GLOBAL);
        }
        if (refuseWithoutReplica) {
            return new Decision.Refuse(SqlState.CANNOT_CONNECT_NOW, "no replica is available for reads");
        }
        return primary(primary, Decision.PrimaryCause.FALLBACK);
    }

    /** Whether some replica may take reads now (without moving the balancer's rotation). */
    private boolean anyReadable(Topology topology) {
        for (int i = 0; i < topology.nodes().size(); i++) {
            NodeStatus node = topology.node(i);
            if (node.role() == Role.REPLICA && eligibility.canRead(node)) {
                return true;
            }
        }
        return false;
    }
}
