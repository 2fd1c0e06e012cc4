package io.pgrelay.core.session;

import io.pgrelay.core.backend.BackendConnection;
import io.pgrelay.core.classify.Route;
import io.pgrelay.core.classify.SessionEffect;
import io.pgrelay.core.cluster.NodeStatus;

/** The session as the {@link Router} sees it, read from the engine and the session's state. */
final class EngineView implements SessionView {
    private final SessionEngine engine;

    EngineView(SessionEngine engine) {
        this.engine = engine;
    }

    @Override
    public boolean inTransaction() {
        return engine.transaction.inTransaction();
    }

    @Override
    public boolean extendedOpen() {
        return engine.transaction.extendedOpen;
    }

    @Override
    public int currentNode() {
        BackendConnection backend = engine.current;
        return backend != null && backend.isUsable() ? backend.nodeIndex() : -1;
    }

    @Override
    public boolean deferredBegin() {
        return engine.transaction.deferredBegin != null;
    }

    @Override
    public boolean deferredBeginReadOnly() {
        return engine.transaction.deferredBegin != null && engine.transaction.deferredBegin.readOnly()
                && !engine.transaction.deferredBegin.serializable();
    }

    @Override
    public boolean transactionLost() {
        return engine.transaction.lost.lost();
    }

    @Override
    public boolean pinned() {
        return engine.objects.pinned();
    }

    @Override
    public ProxySettings.RouteOverride routeOverride() {
        return engine.parts.proxySettings().routeOverride();
    }

    @Override
    public boolean defaultTransactionReadOnly() {
        return engine.parts.clientParameters().defaultTransactionReadOnly();
    }

    @Override
    public Route sqlPreparedRoute(String name) {
        SessionObjects.SqlPrepared prepared = engine.objects.sqlPrepared(name);
        return prepared == null ? null : prepared.route();
    }

    @Override
    public boolean holdsBackend() {
        return engine.current != null || engine.backends.holdsAny();
    }

    @Override
    public boolean positionPending() {
        return engine.causal.state().positionPending();
    }

    @Override
    public boolean causalConstrained() {
        return engine.causal.state().constrained();
    }

    @Override
    public boolean causalPrimaryOnly() {
        return engine.causal.state().primaryOnly();
    }

    @Override
    public boolean causalSatisfied(NodeStatus replica) {
        return engine.causal.satisfied(replica);
    }

    @Override
    public GlobalRead.Stage globalRead() {
        return engine.global.stage();
    }

    @Override
    public int stickyReplica() {
        return engine.stickyReplica;
    }

    @Override
    public boolean retryOnPrimary() {
        return engine.retryOnPrimary;
    }

    @Override
    public boolean signalsIssuedProcess(Request candidate) {
        SessionEffect.SignalBackend signal = candidate.soleEffect(SessionEffect.SignalBackend.class);
        return signal != null && engine.parts.issuedProcess(signal.processId());
    }
}
