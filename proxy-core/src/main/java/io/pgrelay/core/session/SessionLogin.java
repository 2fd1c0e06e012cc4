package io.pgrelay.core.session;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.pgrelay.core.backend.BackendConnection;
import io.pgrelay.core.backend.BackendListener;
import io.pgrelay.core.backend.BackendStartupException;
import io.pgrelay.core.backend.BackendTlsRefusedException;
import io.pgrelay.core.cluster.NodeStatus;
import io.pgrelay.protocol.SqlState;
import io.pgrelay.protocol.message.Messages;
import io.pgrelay.protocol.message.backend.AuthenticationOk;
import io.pgrelay.protocol.message.backend.BackendKeyData;
import io.pgrelay.protocol.message.backend.ErrorResponse;
import io.pgrelay.protocol.message.backend.Fields;
import io.pgrelay.protocol.message.backend.ParameterStatus;
import io.pgrelay.protocol.message.backend.ReadyForQuery;
import io.pgrelay.protocol.message.backend.ReadyForQuery.TransactionStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Completes a client's login through the primary (waiting for one during a failover): takes a
 * backend there, establishes the session's startup settings on it, waits briefly for the
 * database's catalog, then tells the client what the server told pgrelay (ParameterStatus),
 * the cancel key pgrelay issued, and that it is ready.
 */
final class SessionLogin implements BackendListener {
    private static final Logger log = LoggerFactory.getLogger(ClientSession.class);
    private static final long POLL_MILLIS = 50;
    private static final long CATALOG_WAIT_MILLIS = 3000;

    private final ClientLink client;
    private final EventLoop loop;
    private final SessionParts parts;
    private final CancelRegistry.Key key;
    private final Consumer<BackendConnection> loggedIn;
    private long deadlineNanos;
    private boolean done;

    SessionLogin(ClientLink client, EventLoop loop, SessionParts parts, CancelRegistry.Key key,
                 Consumer<BackendConnection> loggedIn) {
        this.client = client;
        this.loop = loop;
        this.parts = parts;
        this.key = key;
        this.loggedIn = loggedIn;
    }

    /** A server that could not be reached (as opposed to one that refused the login). */
    static boolean unreachable(Throwable cause) {
        return !(cause instanceof BackendStartupException startup) || startup.error().sqlState().startsWith("08");
    }

    /**
     * An unreachable primary may come back or be replaced within the client wait; one whose
     * certificate fails backend.tls verification stays wrong, so the client hears it at once.
     */
    static boolean worthWaitingFor(Throwable cause) {
        return unreachable(cause) && !(cause instanceof BackendTlsRefusedException);
    }

    void start() {
        connectPrimary();
    }

    /** The client went away: nothing more happens. */
    void abandon() {
        done = true;
    }

    private boolean waitedTooLong() {
        long now = System.nanoTime();
        if (deadlineNanos == 0) {
            deadlineNanos = now + parts.clientWaitNanos();
        }
        return now - deadlineNanos >= 0;
    }

    private void retryIn(long millis) {
        loop.schedule(this::connectPrimary, millis, TimeUnit.MILLISECONDS);
    }

    private void connectPrimary() {
        if (done) {
            return;
        }
        // Logging in writes nothing: an instance whose write lease lapsed still lets clients in for reads.
        NodeStatus node = parts.cluster().loginTopology().primary();
        if (node == null) {
            if (waitedTooLong()) {
                fail(SqlState.CANNOT_CONNECT_NOW, "no primary node is available");
            } else {
                retryIn(POLL_MILLIS);
            }
            return;
        }
        parts.backends().ensureSlots(parts.cluster().topology().nodes().size());
        Future<BackendConnection> acquired = parts.backends().acquire(node, loop);
        acquired.addListener(f -> onBackend(acquired, node));
    }

    private void onBackend(Future<BackendConnection> future, NodeStatus node) {
        parts.backends().acquired(node.index());
        if (!future.isSuccess()) {
            if (done) {
                return;
            }
            if (worthWaitingFor(future.cause()) && !waitedTooLong()) {
                // The primary is unreachable: during a failover another one appears soon.
                parts.cluster().probeSoon(node.index());
                retryIn(POLL_MILLIS * 4);
                return;
            }
            failLogin(future.cause());
            return;
        }
        BackendConnection backend = future.getNow();
        if (done) {
            backend.recycle(parts.resetQuery());
            return;
        }
        if (backend.isHotStandby()) {
            // The monitor's view is stale: this node was demoted or never was primary.
            log.warn("{} reports in_hot_standby=on although it was taken for the primary", backend);
            backend.close();
            parts.cluster().distrustPrimary(node.index());
            waitedTooLong();
            retryIn(POLL_MILLIS);
            return;
        }
        parts.backends().put(node.index(), backend);
        if (parts.registration() != null) {
            parts.registration().node(node.name());
        }
        backend.attach(this);
        if (StateReplay.settings(parts.settings(), backend, this::onSettingsApplied)) {
            backend.flush();
        } else {
            awaitCatalog(backend);
        }
    }

    private void onSettingsApplied(BackendConnection backend, ErrorResponse error) {
        if (done) {
            return;
        }
        if (error != null) {
            done = true;
            client.close(asFatal(error));
        } else {
            awaitCatalog(backend);
        }
    }

    /** The first client of a database waits (briefly) for its catalog: until it is loaded every read would go to the primary. */
    private void awaitCatalog(BackendConnection backend) {
        CompletableFuture<?> ready = parts.classifier().ready();
        if (ready.isDone()) {
            finish(backend);
            return;
        }
        var timeout = loop.schedule(() -> finish(backend), CATALOG_WAIT_MILLIS, TimeUnit.MILLISECONDS);
        ready.whenComplete((ignored, error) -> loop.execute(() -> {
            timeout.cancel(false);
            finish(backend);
        }));
    }

    private void finish(BackendConnection backend) {
        if (done) {
            return;
        }
        done = true;
        client.write(Messages.encode(client.alloc(), AuthenticationOk.INSTANCE));
        ClientParameters told = parts.clientParameters();
        for (Map.Entry<String, String> parameter : backend.parameters().entrySet()) {
            told.put(parameter.getKey(), parameter.getValue());
            client.write(Messages.encode(client.alloc(), new ParameterStatus(parameter.getKey(), parameter.getValue())));
        }
        told.share();
        client.write(Messages.encode(client.alloc(), new BackendKeyData(key.processId(), key.secretKey())));
        ByteBuf ready = Messages.encode(client.alloc(), ReadyForQuery.of(TransactionStatus.IDLE));
        client.write(ready);
        client.flush();
        loggedIn.accept(backend);
    }

    private void failLogin(Throwable cause) {
        if (cause instanceof BackendStartupException startup) {
            log.info("client {}: login to the backend failed: {}", client.describe(), startup.getMessage());
            done = true;
            client.close(asFatal(startup.error()));
        } else {
            fail(SqlState.CONNECTION_FAILURE, "could not connect to the primary: " + cause.getMessage());
        }
    }

    private void fail(String sqlState, String message) {
        done = true;
        client.fatal(sqlState, message);
    }

    private static ErrorResponse asFatal(ErrorResponse error) {
        if (error.isFatal()) {
            return error;
        }
        Fields fields = error.fields().with(Fields.SEVERITY, "FATAL").with(Fields.SEVERITY_NON_LOCALIZED, "FATAL");
        return new ErrorResponse(fields);
    }

    // ---- the login backend's events: only pgrelay's own queries run on it until the login completes

    @Override
    public void onBackendData(BackendConnection backend, ByteBuf bytes) {
        bytes.release();
    }

    @Override
    public void onBackendReadComplete(BackendConnection backend) {
        backend.requestRead();
    }

    @Override
    public void onBackendReady(BackendConnection backend, TransactionStatus status, boolean idle) {
    }

    @Override
    public void onBackendWritabilityChanged(BackendConnection backend, boolean writable) {
    }

    @Override
    public void onBackendClosed(BackendConnection backend, String reason) {
        parts.backends().forget(backend);
        if (!done) {
            failLogin(new IllegalStateException(reason));
        }
    }
}
