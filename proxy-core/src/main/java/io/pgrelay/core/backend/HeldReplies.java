package io.pgrelay.core.backend;

import io.netty.buffer.ByteBuf;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The gate between a server's replies and the client while a read may still turn out to need
 * the primary ({@link BackendConnection#holdUntilResult()}): replies are held until the first
 * decisive one (a row, a command completion, an error), then released in order; after an error
 * only a standby raises, everything of the request is dropped so that it can run again
 * elsewhere without the client seeing a trace. Confined to the connection's event loop.
 */
final class HeldReplies {
    private enum Gate { OPEN, HOLDING, DISCARDING }

    private Gate gate = Gate.OPEN;
    private List<ByteBuf> held;

    void hold() {
        gate = Gate.HOLDING;
    }

    boolean holding() {
        return gate == Gate.HOLDING;
    }

    boolean discarding() {
        return gate == Gate.DISCARDING;
    }

    /** Bytes for the client: passed to {@code client}, held, or dropped (also when there is no client). */
    void pass(ByteBuf bytes, Consumer<ByteBuf> client) {
        if (client == null || gate == Gate.DISCARDING) {
            bytes.release();
        } else if (gate == Gate.HOLDING) {
            if (held == null) {
                held = new ArrayList<>(4);
            }
            held.add(bytes);
        } else {
            client.accept(bytes);
        }
    }

    /** A decisive reply arrived: what was held goes to {@code client} (dropped without one), in order. */
    void open(Consumer<ByteBuf> client) {
        if (gate != Gate.HOLDING) {
            return;
        }
        gate = Gate.OPEN;
        if (held != null) {
            for (int i = 0; i < held.size(); i++) { // indexed: no iterator per held request
                ByteBuf bytes = held.get(i);
                if (client != null) {
                    client.accept(bytes);
                } else {
                    bytes.release();
                }
            }
            held.clear();
        }
    }

    /** The request failed as only a standby fails: nothing of it reaches the client. */
    void discard() {
        gate = Gate.DISCARDING;
        release();
    }

    /** The discarded request ended (ReadyForQuery): the next one passes again. */
    void discarded() {
        gate = Gate.OPEN;
    }

    /** Drops what is held (the connection is going away). */
    void release() {
        if (held != null) {
            for (int i = 0; i < held.size(); i++) {
                held.get(i).release();
            }
            held.clear();
        }
    }
}
