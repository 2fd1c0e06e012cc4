package io.pgrelay.core.session;

import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.Future;
import io.pgrelay.core.backend.AppliedSettings;
import io.pgrelay.core.backend.BackendConnection;
import io.pgrelay.core.cluster.Ban;
import io.pgrelay.core.backend.BackendListener;
import io.pgrelay.core.backend.BackendStartupException;
import io.pgrelay.protocol.SqlState;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.backend.ErrorResponse;
import io.pgrelay.protocol.message.backend.ReadyForQuery.TransactionStatus;
import io.pgrelay.protocol.message.frontend.FramePeek;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a session's backends do, and what the session does about it: the replies (to the client),
 * a request answered (its effects apply, causal positions are learned, pooled backends go back),
 * a backend acquired or not, a replica's refusal or death before it answered (the request runs
 * again on the primary), a server that dies under the session's work (the request or
 * transaction is lost, the session goes on) and a replay that failed.
 */
final class BackendEvents implements BackendListener {
    private static final Logger log = LoggerFactory.getLogger(ClientSession.class);

    private final SessionEngine engine;

    BackendEvents(SessionEngine engine) {
        this.engine = engine;
    }

    void acquire(int node) {
        Future<BackendConnection> acquired = engine.backends.acquire(engine.cluster.topology().node(node), engine.loop);
        if (acquired.isDone()) {
            onAcquired(acquired, node);
        } else {
            acquired.addListener(done -> onAcquired(acquired, node));
        }
    }

    private void onAcquired(Future<BackendConnection> future, int node) {
        engine.backends.acquired(node);
        if (!future.isSuccess()) {
            if (!engine.closed && engine.wait == SessionEngine.Wait.BACKEND && engine.waitNode == node) {
                acquisitionFailed(node, future.cause());
            }
            return;
        }
        BackendConnection backend = future.getNow();
        if (engine.closed || engine.backends.get(node) != null) {
            backend.recycle(engine.parts.resetQuery());
            return;
        }
        if (engine.cluster.isPrimary(node) && backend.isHotStandby()) {
            // Writes never go to a server in recovery, whatever the monitor last saw.
            log.warn("{} reports in_hot_standby=on although it was taken for the primary", backend);
            backend.close();
            engine.cluster.distrustPrimary(node);
            engine.clearWait();
            engine.park(Decision.WaitCause.NO_PRIMARY);
            return;
        }
        engine.backends.put(node, backend);
        backend.attach(this);
        engine.resume();
    }

    private void acquisitionFailed(int node, Throwable cause) {
        boolean primary = engine.cluster.primaryIndex() < 0 || engine.cluster.isPrimary(node);
        if (!primary && SessionLogin.unreachable(cause)) {
            // Every session would wait out the same timeout: take the replica out for all of them.
            engine.cluster.ban(node, Ban.Cause.CONNECT_FAILED, String.valueOf(cause.getMessage()));
        } else {
            engine.cluster.probeSoon(node);
        }
        if (!primary && !engine.parts.refuseWithoutReplica()) {
            log.info("client {}: replica {} unavailable ({}); reading from the primary", engine.client.describe(),
                    engine.cluster.topology().node(node).name(), cause.getMessage());
            engine.metrics.replicaFailure();
            engine.retryOnPrimary = true;
            engine.redecide();
        } else if (primary && SessionLogin.worthWaitingFor(cause)) {
            // The primary is unreachable: wait (bounded) for it to come back or for a new one.
            engine.clearWait();
            engine.park(Decision.WaitCause.NO_PRIMARY);
        } else {
            ErrorResponse error = cause instanceof BackendStartupException startup ? startup.error()
                    : ErrorResponse.error(SqlState.CONNECTION_FAILURE, String.valueOf(cause.getMessage()));
            engine.failRequest(ErrorResponse.error(error.sqlState(), error.message()));
        }
    }

    @Override
    public void onBackendData(BackendConnection backend, ByteBuf bytes) {
        engine.metrics.bytesReceived(backend.nodeIndex(), bytes.readableBytes());
        engine.client.write(bytes);
    }

    @Override
    public void onBackendParameter(BackendConnection backend, String name, String value) {
        engine.parts.clientParameters().put(name, value);
        if (engine.settings.parameterReported(name, value)
                && !(backend.sessionState().settings() instanceof AppliedSettings.Unknown)) {
            backend.sessionState().settings(AppliedSettings.known(engine.settings.stateKey()));
        }
    }

    @Override
    public void onBackendReadComplete(BackendConnection backend) {
        engine.client.flush();
        if (engine.client.isWritable()) {
            backend.requestRead();
        } else {
            engine.client.backendReadPaused();
        }
    }

    @Override
    public void onBackendWritabilityChanged(BackendConnection backend, boolean writable) {
        if (writable && backend == engine.current) {
            engine.client.readMore();
        }
    }

    @Override
    public void onBackendReady(BackendConnection backend, TransactionStatus status, boolean idle) {
        engine.outstanding.answered(backend.nodeIndex());
        engine.transaction.status = status;
        engine.retry.release();
        SessionEngine.InFlight done = engine.inflight.pollFirst();
        engine.unitTimer.completed(engine.metrics, status);
        if (engine.registration != null) {
            engine.registration.transactionStatus(status);
            engine.registration.active(!idle);
        }
        if (done != null) {
            if (done.ddl()) {
                engine.parts.classifier().schemaChanged();
            }
            SessionEffects.Outcome outcome = engine.effects.completed(done.executed(), backend.lastUnitCompleted(),
                    backend.lastUnitFailed(), status != TransactionStatus.IDLE, backend.sessionState());
            if (outcome == SessionEffects.Outcome.DISCARDED_ALL) {
                dropOtherBackends(backend);
            }
        }
        if (engine.causal.positionToLearn() && status == TransactionStatus.IDLE && idle && !engine.transaction.extendedOpen
                && engine.cluster.isPrimary(backend.nodeIndex())) {
            int timeline = engine.cluster.topology().node(backend.nodeIndex()).timeline();
            engine.causal.learnPosition(backend, timeline, () -> {
                if (engine.closed) {
                    return;
                }
                if (backend.isIdle()) {
                    engine.maybeRelease();
                    engine.maybeLeaveGate();
                }
                engine.resume();
                engine.maybeQuiet();
            });
            return;
        }
        if (idle) {
            engine.maybeRelease();
            engine.maybeLeaveGate();
            engine.resume();
            engine.maybeQuiet();
        }
    }

    /** DISCARD ALL ran on one backend: the others the session holds keep what it discarded, so they go. */
    private void dropOtherBackends(BackendConnection kept) {
        for (int i = 0; i < engine.backends.slots(); i++) {
            BackendConnection backend = engine.backends.get(i);
            if (backend != null && backend != kept && backend.isIdle()) {
                engine.backends.remove(i);
                backend.recycle(engine.parts.resetQuery());
            }
        }
    }

    @Override
    public void onBackendRetry(BackendConnection backend) {
        engine.outstanding.answered(backend.nodeIndex());
        // A replica refused the statement before the client saw anything: run it on the primary.
        engine.metrics.replicaRetry();
        engine.unitTimer.dropOldest();
        engine.maybeRelease();
        rerunOnPrimary(true);
    }

    /** Runs the request a replica could not serve again on the primary; {@code remember}: as a write from now on. */
    private void rerunOnPrimary(boolean remember) {
        if (!engine.retry.holding() || engine.closed) {
            engine.retry.release();
            return;
        }
        if (remember) {
            rememberPrimary();
        }
        if (engine.request.isEmpty() && engine.wait == SessionEngine.Wait.NONE && engine.inflight.size() == 1) {
            engine.inflight.pollFirst();
            engine.retry.moveTo(engine.request);
            engine.retryOnPrimary = true;
            engine.continueWith(engine::dispatch);
        } else {
            // More of the client's work is under way or queued behind it: answer with an error rather than reorder.
            engine.retry.release();
            log.warn("client {}: could not re-run a statement a replica could not serve", engine.client.describe());
            failInFlight("the replica could not serve it");
        }
    }

    private void rememberPrimary() {
        boolean scs = engine.parts.standardConformingStrings();
        for (ByteBuf frame : engine.retry.frames()) {
            byte type = Wire.frameType(frame);
            if (type == 'Q') {
                engine.parts.classifier().rememberPrimary(frame, FramePeek.querySqlStart(frame),
                        FramePeek.querySqlLength(frame), scs);
            } else if (type == 'P') {
                engine.parts.classifier().rememberPrimary(frame, FramePeek.parseSqlStart(frame),
                        FramePeek.parseSqlLength(frame), scs);
            }
        }
    }

    @Override
    public void onBackendClosed(BackendConnection backend, String reason) {
        int node = backend.nodeIndex();
        engine.outstanding.lost(node);
        engine.backends.forget(backend);
        boolean wasBusy = backend == engine.current && (!engine.inflight.isEmpty() || engine.transaction.inTransaction()
                || engine.transaction.extendedOpen);
        if (backend == engine.current) {
            engine.current = null;
            engine.unitTimer.clear();
            if (engine.registration != null) {
                engine.registration.node(null);
            }
        }
        if (engine.closed) {
            return;
        }
        boolean primary = engine.cluster.primaryIndex() < 0 || engine.cluster.isPrimary(node);
        if (wasBusy && engine.retry.holding() && backend.repliesHeld() && !primary) {
            // A replica died before any reply reached the client: the primary runs the request.
            log.info("client {}: {} closed during a read ({}); re-running it on the primary", engine.client.describe(),
                    backend, reason);
            engine.cluster.probeSoon(node);
            engine.metrics.replicaFailure();
            rerunOnPrimary(false);
            return;
        }
        if (primary && engine.objects.pinned()) {
            engine.client.fatal(SqlState.CONNECTION_FAILURE, "the connection to the database server was lost: " + reason);
        } else if (wasBusy) {
            failInFlight(reason);
        } else {
            engine.resume();
        }
    }

    /**
     * The server running the client's work died. The client gets an error in place of the
     * outstanding replies and stays connected: outside a transaction it may simply retry
     * (08006: whether an autocommit write committed is unknown, as with any lost
     * connection); inside one, pgrelay answers as an aborted transaction (25P02) until the
     * client ends it, then the session goes on on whatever node is now the primary.
     */
    private void failInFlight(String reason) {
        failInFlight(reason, null);
    }

    /** {@link #failInFlight(String)}; {@code replaced}: the error the client gets for its outstanding work. */
    private void failInFlight(String reason, ErrorResponse replaced) {
        boolean inTransaction = engine.transaction.inTransaction();
        int outstanding = engine.inflight.size();
        engine.inflight.clear();
        engine.flushed.clear();
        engine.retry.release();
        engine.transaction.extendedOpen = false;
        engine.causal.writeLost();
        int primary = engine.cluster.primaryIndex();
        engine.cluster.probeSoon(primary >= 0 ? primary : 0);
        if (inTransaction) {
            engine.transaction.lost.serverDied(reason, outstanding > 0);
            engine.transaction.status = TransactionStatus.FAILED;
            engine.settings.requestEnded(true, true);
        }
        if (outstanding > 0) {
            ErrorResponse error = replaced != null ? replaced : LostTransaction.lostReply(reason, inTransaction);
            for (int i = 0; i < outstanding; i++) {
                engine.client.write(LocalReplies.error(engine.client.alloc(), error, true, engine.transaction.status));
            }
            engine.client.flush();
        }
        engine.maybeLeaveGate();
        if (engine.wait != SessionEngine.Wait.NONE) {
            // A request waiting for this server (or behind it) is routed afresh: locally when the
            // transaction is now aborted, else to wherever it can run now.
            engine.redecide();
        } else {
            engine.client.drain();
        }
    }

    /**
     * A replay failed (a role the user may no longer set, a prepared statement whose table is
     * gone): the client's work queued behind it would run in a state the session did not ask
     * for. The backend goes, and the client gets the replay's error in place of its replies.
     */
    void onReplayed(BackendConnection backend, ErrorResponse error) {
        if (error == null || engine.closed) {
            return;
        }
        log.warn("client {}: could not re-establish session state on {}: {}", engine.client.describe(), backend,
                error.message());
        backend.sessionState().settings(io.pgrelay.core.backend.AppliedSettings.UNKNOWN);
        if (engine.backends.get(backend.nodeIndex()) != backend || !backend.isUsable()) {
            return;
        }
        engine.backends.forget(backend);
        if (engine.current == backend) {
            engine.current = null;
            engine.unitTimer.clear();
        }
        backend.detach();
        backend.close();
        if (engine.objects.pinned() && engine.cluster.isPrimary(backend.nodeIndex())) {
            engine.client.fatal(error.sqlState(), error.message());
            return;
        }
        failInFlight(error.message(), ErrorResponse.error(error.sqlState(), error.message()));
    }
}
