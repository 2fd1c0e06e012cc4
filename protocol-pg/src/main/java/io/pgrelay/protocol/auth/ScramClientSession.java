package io.pgrelay.protocol.auth;

import io.pgrelay.protocol.PgProtocolException;
import io.pgrelay.protocol.SqlState;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Client side of one SCRAM-SHA-256 login to a PostgreSQL backend, producing the same messages as
 * libpq's {@code fe-auth-scram.c} without channel binding:
 *
 * <ol>
 *   <li>send {@link #mechanism()} and {@link #clientFirstMessage()} in SASLInitialResponse;</li>
 *   <li>pass AuthenticationSASLContinue's data to {@link #handleServerFirst(byte[])} and send the
 *       result in SASLResponse;</li>
 *   <li>pass AuthenticationSASLFinal's data to {@link #handleServerFinal(byte[])}, which verifies
 *       that the backend knows the password, then expect AuthenticationOk.</li>
 * </ol>
 *
 * <p>Errors are thrown as {@link PgProtocolException}: 08P01 for malformed or inconsistent server
 * messages (including a nonce that does not extend ours, or an iteration count that is not a
 * positive number up to the configured maximum); 28P01 if the server answers
 * {@code e=invalid-proof}; 28000 for any other {@code e=} error or a wrong server signature.
 *
 * <p>Keys derived from (password, salt, iterations) are kept in a small process-wide LRU cache,
 * so reconnecting to the same backend does not repeat the PBKDF2 rounds.
 *
 * <p>Not thread-safe: one instance per backend login.
 */
public final class ScramClientSession {
    /** Highest iteration count accepted from a server unless configured otherwise. */
    public static final int DEFAULT_MAX_ITERATIONS = 1_000_000;
    /** Capacity of the derived-key cache. */
    static final int KEY_CACHE_CAPACITY = 256;

    private static final Map<CacheKey, DerivedKeys> KEY_CACHE =
            new LinkedHashMap<>(32, 0.75f, true) {
                private static final long serialVersionUID = 1L;

                @Override
                protected boolean removeEldestEntry(Map.Entry<CacheKey, DerivedKeys> eldest) {
                    return size() > KEY_CACHE_CAPACITY;
                }
            };
    private static final AtomicLong DERIVATIONS = new AtomicLong();

    private enum State { INIT, NONCE_SENT, PROOF_SENT, FINISHED, FAILED }

    private final byte[] preparedPassword;
    private final NonceSource nonces;
    private final int maxIterations;
    private final String saslUserName;

    private State state = State.INIT;
    private String clientNonce;
    private String clientFirstBare;
    private byte[] expectedServerSignature;

    /** A session accepting at most {@link #DEFAULT_MAX_ITERATIONS} iterations. */
    public ScramClientSession(String password, NonceSource nonces) {
        this(password, nonces, DEFAULT_MAX_ITERATIONS);
    }

    /**
     * @param password      the user's password (SASLprep is applied as libpq does)
     * @param nonces        source of the client nonce
     * @param maxIterations highest iteration count accepted from the server, bounding the CPU a
     *                      server can make us spend
     */
    public ScramClientSession(String password, NonceSource nonces, int maxIterations) {
        this(password, nonces, maxIterations, "");
    }

    /**
     * As {@link #ScramClientSession(String, NonceSource, int)}, but sending {@code saslUserName}
     * in {@code n=} instead of the empty string (PostgreSQL ignores it). Used to replay the RFC
     * 7677 test vector, which has {@code n=user}.
     */
    ScramClientSession(String password, NonceSource nonces, int maxIterations, String saslUserName) {
        Objects.requireNonNull(password, "password");
        this.saslUserName = Objects.requireNonNull(saslUserName, "saslUserName");
        this.nonces = Objects.requireNonNull(nonces, "nonces");
        if (maxIterations < 1) {
            throw new IllegalArgumentException("maxIterations must be positive: " + maxIterations);
        }
        this.maxIterations = maxIterations;
        this.preparedPassword = ScramSha256.saslPrep(password);
    }

    /**
     * Picks the mechanism from those a server offers in AuthenticationSASL.
     *
     * @throws PgProtocolException 0A000 if {@value ScramSha256#MECHANISM} is not among them
     */
    public static String selectMechanism(Collection<String> offered) {
        if (offered != null && offered.contains(ScramSha256.MECHANISM)) {
            return ScramSha256.MECHANISM;
        }
        throw new PgProtocolException(SqlState.FEATURE_NOT_SUPPORTED,
                "none of the server's SASL authentication mechanisms are supported");
    }

    /** The mechanism name to send in SASLInitialResponse. */
    public String mechanism() {
        return ScramSha256.MECHANISM;
    }

    /** client-first-message: {@code n,,n=,r=<nonce>}, exactly as libpq sends it. */
    public byte[] clientFirstMessage() {
        if (state != State.INIT) {
            throw new IllegalStateException("client-first-message already sent");
        }
        String nonce = nonces.nextNonce();
        if (nonce == null || nonce.isEmpty() || !ScramSha256.isPrintable(nonce)) {
            throw new IllegalStateException("nonce source produced an invalid SCRAM nonce");
        }
        clientNonce = nonce;
        String bare = "n=" + saslUserName.replace("=", "=3D").replace(",", "=2C") + ",r=" + nonce;
        // Message text is kept as ISO-8859-1 (one char per byte) so it maps back to the exact bytes.
        clientFirstBare = new String(bare.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
        state = State.NONCE_SENT;
        return ScramMessageReader.bytes(ScramSha256.GS2_HEADER_NO_CBIND + clientFirstBare);
    }

    /**
     * Processes server-first-message and returns client-final-message.
     *
     * @throws PgProtocolException 08P01 if the message is malformed, its nonce does not start
     *                             with ours, or its iteration count is not in {@code [1, max]}
     */
    public byte[] handleServerFirst(byte[] serverFirst) {
        if (state != State.NONCE_SENT) {
            throw fail(PgProtocolException.violation("unexpected SCRAM server-first-message"));
        }
        try {
            ScramMessageReader in = ScramMessageReader.of(serverFirst, "server-first-message");
            String nonce = in.readAttribute('r');
            if (nonce.length() < clientNonce.length()
                    || !ScramSha256.constantTimeEquals(
                            ScramMessageReader.bytes(nonce.substring(0, clientNonce.length())),
                            ScramMessageReader.bytes(clientNonce))) {
                throw PgProtocolException.violation("invalid SCRAM response: nonce mismatch");
            }
            if (!ScramSha256.isPrintable(nonce)) {
                throw PgProtocolException.violation("non-printable characters in SCRAM nonce");
            }
            byte[] salt = ScramMessageReader.base64(in.readAttribute('s'), "salt");
            if (salt.length == 0) {
                throw ScramMessageReader.malformed("invalid salt");
            }
            int iterations = parseIterations(in.readAttribute('i'));
            while (!in.atEnd()) {
                in.readAnyAttribute(); // extensions, ignored
            }

            DerivedKeys keys = derive(preparedPassword, salt, iterations);
            String withoutProof = "c=" + ScramSha256.CBIND_NO_CBIND + ",r=" + nonce;
            byte[] authMessage = ScramMessageReader.bytes(
                    clientFirstBare + "," + in.text() + "," + withoutProof);
            byte[] clientSignature = ScramSha256.hmac(ScramSha256.storedKey(keys.clientKey), authMessage);
            byte[] proof = ScramSha256.xor(keys.clientKey, clientSignature);
            expectedServerSignature = ScramSha256.hmac(keys.serverKey, authMessage);
            state = State.PROOF_SENT;
            return (withoutProof + ",p=" + Base64.getEncoder().encodeToString(proof))
                    .getBytes(StandardCharsets.ISO_8859_1);
        } catch (RuntimeException e) {
            state = State.FAILED;
            throw e;
        }
    }

    /**
     * Processes server-final-message and verifies the server signature. On return the server
     * has proven it knows the password.
     *
     * @throws PgProtocolException 28P01 for {@code e=invalid-proof}, 28000 for another
     *                             {@code e=} error or a wrong signature, 08P01 if malformed
     */
    public void handleServerFinal(byte[] serverFinal) {
        if (state != State.PROOF_SENT) {
            throw fail(PgProtocolException.violation("unexpected SCRAM server-final-message"));
        }
        try {
            ScramMessageReader in = ScramMessageReader.of(serverFinal, "server-final-message");
            if (in.peek() == 'e') {
                String error = in.readAttribute('e');
                throw new PgProtocolException(
                        "invalid-proof".equals(error) ? SqlState.INVALID_PASSWORD
                                : SqlState.INVALID_AUTHORIZATION_SPECIFICATION,
                        "error received from server in SCRAM exchange: " + ScramMessageReader.sanitize(error));
            }
            byte[] signature = ScramMessageReader.base64(in.readAttribute('v'), "server signature");
            if (signature.length != ScramSha256.KEY_LENGTH) {
                throw ScramMessageReader.malformed("invalid server signature");
            }
            while (!in.atEnd()) {
                in.readAnyAttribute(); // extensions, ignored
            }
            if (!ScramSha256.constantTimeEquals(signature, expectedServerSignature)) {
                throw new PgProtocolException(SqlState.INVALID_AUTHORIZATION_SPECIFICATION,
                        "incorrect server signature");
            }
            state = State.FINISHED;
        } catch (RuntimeException e) {
            state = State.FAILED;
            throw e;
        }
    }

    /** Whether the exchange completed and the server signature was verified. */
    public boolean isComplete() {
        return state == State.FINISHED;
    }

    private int parseIterations(String text) {
        if (text.isEmpty() || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw ScramMessageReader.malformed("invalid iteration count");
        }
        String digits = text.replaceFirst("^0+", "");
        if (digits.isEmpty()) {
            throw ScramMessageReader.malformed("invalid iteration count");
        }
        if (digits.length() > 10 || Long.parseLong(digits) > maxIterations) {
            throw PgProtocolException.violation("SCRAM iteration count " + ScramMessageReader.sanitize(digits)
                    + " exceeds the configured maximum of " + maxIterations);
        }
        return Integer.parseInt(digits);
    }

    /** Marks the session failed (a completed session stays complete) and returns {@code e}. */
    private PgProtocolException fail(PgProtocolException e) {
        if (state != State.FINISHED) {
            state = State.FAILED;
        }
        return e;
    }

    // ---------------------------------------------------------------- derived-key cache

    private static DerivedKeys derive(byte[] preparedPassword, byte[] salt, int iterations) {
        CacheKey key = new CacheKey(ScramSha256.h(preparedPassword), salt, iterations);
        DerivedKeys keys;
        synchronized (KEY_CACHE) {
            keys = KEY_CACHE.get(key);
        }
        if (keys != null) {
            return keys;
        }
        // Derive outside the lock; concurrent misses for the same key just compute it twice.
        byte[] salted = ScramSha256.hi(preparedPassword, salt, iterations);
        DERIVATIONS.incrementAndGet();
        keys = new DerivedKeys(ScramSha256.clientKey(salted), ScramSha256.serverKey(salted));
        Arrays.fill(salted, (byte) 0);
        synchronized (KEY_CACHE) {
            KEY_CACHE.put(key, keys);
        }
        return keys;
    }

    /** Empties the derived-key cache (tests; or after a password change, to drop old keys early). */
    public static void clearKeyCache() {
        synchronized (KEY_CACHE) {
            KEY_CACHE.clear();
        }
    }

    static int keyCacheSize() {
        synchronized (KEY_CACHE) {
            return KEY_CACHE.size();
        }
    }

    /** How many PBKDF2 derivations this process has run (tests observe cache hits with it). */
    static long keyDerivations() {
        return DERIVATIONS.get();
    }

    /** ClientKey and ServerKey for one (password, salt, iterations); never modified or exposed. */
    private static final class DerivedKeys {
        final byte[] clientKey;
        final byte[] serverKey;

        DerivedKeys(byte[] clientKey, byte[] serverKey) {
            this.clientKey = clientKey;
            this.serverKey = serverKey;
        }
    }

    /** Keyed by a SHA-256 of the prepared password, so the cache holds no plaintext copy. */
    private static final class CacheKey {
        private final byte[] passwordHash;
        private final byte[] salt;
        private final int iterations;
        private final int hash;

        CacheKey(byte[] passwordHash, byte[] salt, int iterations) {
            this.passwordHash = passwordHash;
            this.salt = salt.clone();
            this.iterations = iterations;
            this.hash = 31 * (31 * Arrays.hashCode(passwordHash) + Arrays.hashCode(salt)) + iterations;
        }

        @Override
        public boolean equals(Object o) {
            if (!(o instanceof CacheKey)) {
                return false;
            }
            CacheKey other = (CacheKey) o;
            return iterations == other.iterations
                    && Arrays.equals(salt, other.salt)
                    && Arrays.equals(passwordHash, other.passwordHash);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }
}
