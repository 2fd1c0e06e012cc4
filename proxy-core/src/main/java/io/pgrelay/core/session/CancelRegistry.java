package io.pgrelay.core.session;

import java.security.SecureRandom;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Maps the BackendKeyData pgrelay hands to each client (its own process id and secret,
 * never a backend's) to the session, so a CancelRequest arriving on a new connection can
 * be routed to whichever backend serves that session at that moment. The process ids are
 * above any operating system's pid range (Linux's maximum is 2^22), so they never collide with a
 * server's: pg_cancel_backend / pg_terminate_backend of such an id means a pgrelay session.
 */
public final class CancelRegistry {
    /** Process ids pgrelay issues are at least this. */
    static final int FIRST_PROCESS_ID = 1 << 22;

    /** What a cancel request or signal reaches. */
    public interface Cancellable {
        /** Cancels whatever the session is running now; may be called from any thread. */
        void cancelRequested();

        /** Ends the session as the server's pg_terminate_backend would (57P01); any thread. */
        void terminateRequested();

        /** The user the client logged in as, and whether the server said it is a superuser. */
        String user();

        boolean superuser();
    }

    /** A client's cancel key as issued. */
    public record Key(int processId, int secretKey) {
    }

    private final ConcurrentHashMap<Integer, Registered> sessions = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();

    private record Registered(int secretKey, Cancellable session) {
    }

    public Key register(Cancellable session) {
        while (true) {
            int processId = FIRST_PROCESS_ID + random.nextInt(Integer.MAX_VALUE - FIRST_PROCESS_ID);
            Key key = new Key(processId, random.nextInt());
            if (sessions.putIfAbsent(processId, new Registered(key.secretKey(), session)) == null) {
                return key;
            }
        }
    }

    public void unregister(Key key) {
        if (key != null) {
            sessions.remove(key.processId());
        }
    }

    /** Forwards a cancel to the session holding this key; unknown keys are ignored, as the server does. */
    public boolean cancel(int processId, int secretKey) {
        Registered registered = sessions.get(processId);
        if (registered == null || registered.secretKey() != secretKey) {
            return false;
        }
        registered.session().cancelRequested();
        return true;
    }

    /** The session pgrelay issued this process id to, or null. */
    public Cancellable session(int processId) {
        Registered registered = sessions.get(processId);
        return registered == null ? null : registered.session();
    }

    public int size() {
        return sessions.size();
    }
}
