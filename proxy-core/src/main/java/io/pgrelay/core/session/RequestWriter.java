package io.pgrelay.core.session;

import io.netty.buffer.ByteBuf;
import io.pgrelay.core.backend.BackendConnection;
import io.pgrelay.core.backend.InternalQueryCallback;
import io.pgrelay.core.classify.Route;
import io.pgrelay.core.classify.SessionEffect;
import io.pgrelay.core.classify.StatementFacts;
import io.pgrelay.core.classify.StatementKind;
import io.pgrelay.core.classify.Trait;
import io.pgrelay.core.cluster.NodeStatus;
import io.pgrelay.core.cluster.Role;

import java.util.ArrayList;
import java.util.List;

/**
 * Sends a routed request to its backend: a deferred BEGIN, the replay of the session's state
 * ({@link StateReplay}), the client's frames; keeps a copy for a replica's refusal; records what
 * is in flight and the effects that hold from the moment it is sent.
 */
final class RequestWriter {
    private final SessionEngine engine;
    /** Made once: a method reference per request would be an allocation per request. */
    private final InternalQueryCallback onReplayed;

    RequestWriter(SessionEngine engine) {
        this.engine = engine;
        this.onReplayed = engine.events::onReplayed;
    }

    void write(BackendConnection backend) {
        engine.global.done();
        boolean retryable = retryable(backend);
        engine.current = backend;
        boolean primary = engine.cluster.isPrimary(backend.nodeIndex());
        if (primary && engine.causal.state().causal() && Router.primaryReason(engine.request, engine.view) != null) {
            engine.causal.mayHaveWritten();
        }
        if (engine.transaction.deferredBegin != null) {
            String begin = engine.transaction.deferredBegin.beginSql();
            engine.transaction.deferredBegin = null;
            engine.replay.settings(backend, onReplayed);
            backend.writeInternalQuery(begin, onReplayed);
        } else {
            engine.replay.settings(backend, onReplayed);
        }
        engine.replay.sqlStatements(backend, engine.request);
        if (retryable) {
            engine.retry.keep(engine.request);
        }
        long sent = 0;
        List<ByteBuf> frames = engine.request.frames;
        for (int i = 0; i < frames.size(); i++) {
            ByteBuf frame = frames.get(i);
            sent += frame.readableBytes();
            engine.replay.beforeFrame(backend, engine.request, i, frame);
            backend.writeClientFrame(frame);
        }
        engine.effects.sent(engine.request.executed);
        if (engine.request.complete() && !primary) {
            engine.outstanding.sent(backend.nodeIndex());
        }
        if (engine.request.complete()) {
            engine.unitTimer.sent();
            engine.inflight.addLast(inFlight());
        } else {
            RequestAssembler.addAll(engine.flushed, engine.request.executed);
        }
        engine.transaction.extendedOpen = !engine.request.complete()
                || (engine.transaction.extendedOpen && engine.request.terminator != 'S' && engine.request.terminator != 'Q');
        if (retryable) {
            backend.holdUntilResult();
        }
        engine.metrics.statementRouted(backend.nodeIndex(), primary ? Route.PRIMARY : Route.REPLICA,
                engine.request.kind != null ? engine.request.kind : StatementKind.OTHER);
        engine.metrics.bytesSent(backend.nodeIndex(), sent);
        if (engine.registration != null) {
            engine.registration.node(backend.key().nodeName());
            engine.registration.active(true);
        }
        engine.request.clear();
        engine.backendNeedsFlush = true;
    }

    private SessionEngine.InFlight inFlight() {
        boolean ddl = engine.request.has(Trait.DDL);
        boolean withEffects = !engine.flushed.isEmpty();
        List<StatementFacts> executedNow = engine.request.executed;
        for (int i = 0; i < executedNow.size(); i++) {
            withEffects |= !executedNow.get(i).effects().isEmpty();
        }
        if (!withEffects && !ddl) {
            return SessionEngine.InFlight.PLAIN;
        }
        List<StatementFacts> executed = new ArrayList<>(engine.flushed.size() + engine.request.executed.size());
        executed.addAll(engine.flushed);
        executed.addAll(engine.request.executed);
        engine.flushed.clear();
        return new SessionEngine.InFlight(executed, ddl);
    }

    /** Whether a replica's refusal of this request can be hidden by running it on the primary. */
    private boolean retryable(BackendConnection backend) {
        NodeStatus node = engine.cluster.topology().node(backend.nodeIndex());
        return node.role() == Role.REPLICA && engine.transaction.idle() && !engine.request.hasEffect(SessionEffect.Begin.class)
                && !engine.request.has(Trait.COPY_FROM_STDIN) && engine.request.complete() && !engine.retry.holding();
    }
}
