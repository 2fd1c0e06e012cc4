package io.pgrelay.core.session;

import io.pgrelay.core.coordination.IssuedProcessIds;

import java.security.SecureRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntSupplier;

/**
 * Maps the BackendKeyData pgrelay hands to each client (its own process id and secret,
 * never a backend's) to the session, so a CancelRequest arriving on a new connection can
 * be routed to whichever backend serves that session at that moment. The process ids are
 * above any operating system's pid range and name the issuing instance ({@link IssuedProcessIds}):
 * a CancelRequest for a key another instance issued goes to {@link Elsewhere}.
 */
public final class CancelRegistry {
    /** Process ids pgrelay issues are at least this. */
    static final int FIRST_PROCESS_ID = IssuedProcessIds.FIRST;

    /** Where a CancelRequest for a key this instance did not issue goes (another instance, or nowhere). */
    @FunctionalInterface
    public interface Elsewhere {
        /** Nowhere: unknown keys are ignored, as the server does. */
        Elsewhere NOWHERE = (processId, secretKey) -> false;

        /** Passes the cancel on, without blocking; whether it was passed on. Any thread. */
        boolean cancel(int processId, int secretKey);
    }

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
    private final IntSupplier slot;
    private final Elsewhere elsewhere;

    /** One instance alone: unslotted process ids, unknown keys ignored. */
    public CancelRegistry() {
        this(() -> IssuedProcessIds.NO_SLOT, Elsewhere.NOWHERE);
    }

    /**
     * {@code slot}: the slot this instance holds now (read at each registration, cheap, any thread),
     * {@link IssuedProcessIds#NO_SLOT} for none; {@code elsewhere}: for keys not issued here.
     */
    public CancelRegistry(IntSupplier slot, Elsewhere elsewhere) {
        this.slot = slot;
        this.elsewhere = elsewhere;
    }

    private record Registered(int secretKey, Cancellable session) {
    }

    public Key register(Cancellable session) {
        while (true) {
            int processId = IssuedProcessIds.draw(slot.getAsInt(), random);
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

    /**
     * Forwards a cancel to the session holding this key. A process id not issued here goes
     * {@link Elsewhere} (the instance that issued it); a wrong secret is ignored, as the server does.
     * Returns whether the cancel reached a session here or was passed on.
     */
    public boolean cancel(int processId, int secretKey) {
        Registered registered = sessions.get(processId);
        if (registered == null) {
            return elsewhere.cancel(processId, secretKey);
        }
        if (registered.secretKey() != secretKey) {
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
