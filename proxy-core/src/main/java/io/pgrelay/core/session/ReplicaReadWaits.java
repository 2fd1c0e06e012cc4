package io.pgrelay.core.session;

import io.pgrelay.core.backend.BackendConnection;

/**
 * What a read waits for before a replica may serve it: the replica's own word that it replayed
 * the position the read needs (causal or global), and, for a global read, the primary's position
 * and the pauses between replay checks within {@code routing.global-wait}. Each wait ends by
 * sending the request on or routing it afresh. Part of {@link SessionEngine}, on its loop.
 */
final class ReplicaReadWaits {
    private final SessionEngine engine;

    ReplicaReadWaits(SessionEngine engine) {
        this.engine = engine;
    }

    /** The global read learns the primary's position (or joins the request already made). */
    void learnPosition() {
        engine.waitFor(SessionEngine.Wait.GLOBAL, -1, false);
        if (engine.global.stage() == GlobalRead.Stage.NEEDS_POSITION) {
            engine.global.learnPosition(engine.loop, this::globalReady);
        }
    }

    /** Asks the chosen replica how far it has replayed before sending it the request. */
    void checkReplay(BackendConnection backend, int node) {
        engine.waitFor(SessionEngine.Wait.REPLAY_CHECK, node, false);
        engine.metrics.causalCheck();
        engine.causal.checkReplica(backend, engine.cluster.topology().node(node), reached -> {
            if (engine.closed || engine.wait != SessionEngine.Wait.REPLAY_CHECK || engine.waitNode != node) {
                return;
            }
            engine.clearWait();
            if (reached) {
                engine.continueWith(() -> engine.send(node, false));
                return;
            }
            GlobalRead global = engine.global;
            global.checkFailed();
            if (global.mayWait()) {
                // The replica may get there within routing.global-wait: ask again after a pause.
                engine.waitFor(SessionEngine.Wait.GLOBAL, -1, false);
                global.pause(engine.loop, this::globalReady);
            } else {
                // A causal read goes to the primary; a global one is routed afresh: to a replica
                // known to have its position, else to the primary.
                engine.retryOnPrimary = global.stage() == GlobalRead.Stage.OFF;
                engine.redecide();
            }
        });
    }

    /** A global read's position is known (or unknown), or its pause between replay checks is over. */
    private void globalReady() {
        if (!engine.closed && engine.wait == SessionEngine.Wait.GLOBAL) {
            engine.redecide();
        }
    }
}
