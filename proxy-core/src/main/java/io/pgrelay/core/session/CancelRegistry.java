package io.pgrelay.core.session;

import java.security.SecureRandom;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Maps the BackendKeyData pgrelay hands to each client (its own process id and secret,
 * never a backend's) to the session, so a CancelRequest arriving on a new connection can
 * be routed to whichever backend serves that session at that moment.
 */
public final class CancelRegistry {
    /** What a cancel request reaches. */
    public interface Cancellable {
        /** Cancels whatever the session is running now; may be called from any thread. */
        void cancelRequested();
    }

    /** A client's cancel key as issued. */
    public record Key(int processId, int secretKey) {
        long packed() {
            return ((long) processId << 32) | (secretKey & 0xffffffffL);
        }
    }

    private final ConcurrentHashMap<Long, Cancellable> sessions = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();

    public Key register(Cancellable session) {
        while (true) {
            Key key = new Key(random.nextInt() & 0x7fffffff, random.nextInt());
            if (key.processId() != 0 && sessions.putIfAbsent(key.packed(), session) == null) {
                return key;
            }
        }
    }

    public void unregister(Key key) {
        if (key != null) {
            sessions.remove(key.packed());
        }
    }

    /** Forwards a cancel to the session holding this key; unknown keys are ignored, as the server does. */
    public boolean cancel(int processId, int secretKey) {
        Cancellable session = sessions.get(new Key(processId, secretKey).packed());
        if (session == null) {
            return false;
        }
        session.cancelRequested();
        return true;
    }

    public int size() {
        return sessions.size();
    }
}
