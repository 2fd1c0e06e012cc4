package io.pgrelay.protocol.auth;

import io.pgrelay.protocol.PgProtocolException;
import io.pgrelay.protocol.SqlState;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;

/**
 * Server side of one SCRAM-SHA-256 login (RFC 5802 / RFC 7677), behaving like PostgreSQL's
 * {@code src/backend/libpq/auth-scram.c} without channel binding:
 *
 * <ol>
 *   <li>advertise {@link #mechanisms()} in AuthenticationSASL;</li>
 *   <li>pass the SASLInitialResponse to {@link #handleClientFirst(String, byte[])} and send the
 *       result in AuthenticationSASLContinue;</li>
 *   <li>pass the SASLResponse to {@link #handleClientFinal(byte[])} and send the result in
 *       AuthenticationSASLFinal, followed by AuthenticationOk.</li>
 * </ol>
 *
 * <p>Failures are thrown as {@link PgProtocolException}: SQLSTATE 08P01 for malformed messages,
 * an unknown mechanism, channel-binding or nonce mismatches; 0A000 for an authorization identity
 * or a mandatory extension (as PostgreSQL); 28P01 ({@code password authentication failed for user
 * "..."}) for a wrong proof. After a failure the session is unusable.
 *
 * <p>For an unknown user pass a {@code null} secret: the exchange then runs against a mock secret
 * whose salt is derived deterministically from the user name and a key, so probing clients see
 * the same kind of answer for every user name and fail only at the final step with 28P01.
 *
 * <p>Not thread-safe: one instance per client connection, used from its event loop.
 */
public final class ScramServerSession {
    private static final int MOCK_KEY_LENGTH = 32;
    /** Per-process key for mock salts; pass a shared key to keep them stable across restarts. */
    private static final byte[] PROCESS_MOCK_KEY = newMockKey();

    private enum State { INIT, SALT_SENT, FINISHED, FAILED }

    private final String userName;
    private final NonceSource nonces;
    private final boolean doomed;
    private final int iterations;
    private final String saltBase64;
    private final byte[] storedKey;
    private final byte[] serverKey;

    private State state = State.INIT;
    private char cbindFlag;
    private String clientFirstBare;
    private String clientNonce;
    private String serverNonce;
    private String serverFirst;

    /**
     * A session using a per-process random key for mock salts.
     *
     * @param userName the user name from the startup packet, used in error messages and for the mock salt
     * @param secret   the user's secret, or {@code null} if the user is unknown
     * @param nonces   source of the server nonce
     */
    public ScramServerSession(String userName, ScramSecret secret, NonceSource nonces) {
        this(userName, secret, nonces, PROCESS_MOCK_KEY);
    }

    /**
     * A session whose mock salt (used only when {@code secret} is {@code null}) is
     * {@code HMAC-SHA-256(mockSaltKey, userName)} truncated to 16 bytes. Give every pgrelay
     * instance the same, secret key to make mock salts stable across instances and restarts,
     * like real salts are.
     */
    public ScramServerSession(String userName, ScramSecret secret, NonceSource nonces, byte[] mockSaltKey) {
        this.userName = Objects.requireNonNull(userName, "userName");
        this.nonces = Objects.requireNonNull(nonces, "nonces");
        Objects.requireNonNull(mockSaltKey, "mockSaltKey");
        if (secret != null) {
            this.doomed = false;
            this.iterations = secret.iterations();
            this.saltBase64 = secret.saltBase64();
            this.storedKey = secret.storedKeyRef();
            this.serverKey = secret.serverKeyRef();
        } else {
            // As mock_scram_secret(): plausible parameters, keys that are never used for success.
            this.doomed = true;
            this.iterations = ScramSha256.DEFAULT_ITERATIONS;
            this.saltBase64 = Base64.getEncoder().encodeToString(mockSalt(mockSaltKey, userName));
            this.storedKey = new byte[ScramSha256.KEY_LENGTH];
            this.serverKey = new byte[ScramSha256.KEY_LENGTH];
        }
    }

    /** The SASL mechanism to advertise: only {@value ScramSha256#MECHANISM} (no channel binding). */
    public String mechanisms() {
        return ScramSha256.MECHANISM;
    }

    /**
     * Processes client-first-message (the initial response in SASLInitialResponse) and returns
     * server-first-message.
     *
     * @param mechanism   the mechanism the client selected
     * @param clientFirst the initial response, without any trailing NUL
     * @throws PgProtocolException 08P01 if the mechanism is not SCRAM-SHA-256, the message is
     *                             missing or malformed, or it asks for channel binding; 0A000 for an
     *                             authorization identity or a mandatory extension
     */
    public byte[] handleClientFirst(String mechanism, byte[] clientFirst) {
        if (state != State.INIT) {
            throw fail(PgProtocolException.violation("unexpected SCRAM client-first-message"));
        }
        try {
            if (!ScramSha256.MECHANISM.equals(mechanism)) {
                throw PgProtocolException.violation("client selected an invalid SASL authentication mechanism");
            }
            readClientFirst(ScramMessageReader.of(clientFirst, "client-first-message"));
            serverNonce = nonces.nextNonce();
            if (serverNonce == null || serverNonce.isEmpty() || !ScramSha256.isPrintable(serverNonce)) {
                throw new IllegalStateException("nonce source produced an invalid SCRAM nonce");
            }
            serverFirst = "r=" + clientNonce + serverNonce + ",s=" + saltBase64 + ",i=" + iterations;
            state = State.SALT_SENT;
            return serverFirst.getBytes(StandardCharsets.US_ASCII);
        } catch (RuntimeException e) {
            state = State.FAILED;
            throw e;
        }
    }

    /**
     * Processes client-final-message (the SASLResponse) and returns server-final-message
     * ({@code v=<ServerSignature>}); the client is then authenticated.
     *
     * @throws PgProtocolException 28P01 if the proof is wrong or the user is unknown; 08P01 if the
     *                             message is malformed, or the channel-binding data or the nonce
     *                             does not match
     */
    public byte[] handleClientFinal(byte[] clientFinal) {
        if (state != State.SALT_SENT) {
            throw fail(PgProtocolException.violation("unexpected SCRAM client-final-message"));
        }
        try {
            ScramMessageReader in = ScramMessageReader.of(clientFinal, "client-final-message");

            String channelBinding = in.readAttribute('c');
            boolean cbindOk = (cbindFlag == 'n' && ScramSha256.CBIND_NO_CBIND.equals(channelBinding))
                    || (cbindFlag == 'y' && ScramSha256.CBIND_CBIND_UNUSED.equals(channelBinding));
            if (!cbindOk) {
                throw PgProtocolException.violation(
                        "unexpected SCRAM channel-binding attribute in client-final-message");
            }

            String finalNonce = in.readAttribute('r');

            // Skip extensions up to the proof; the message without proof ends before its comma.
            int proofStart;
            ScramMessageReader.Attribute attr;
            do {
                proofStart = in.position() - 1;
                attr = in.readAnyAttribute();
            } while (attr.name() != 'p');
            byte[] proof = ScramMessageReader.base64(attr.value(), "proof");
            if (proof.length != ScramSha256.KEY_LENGTH) {
                throw ScramMessageReader.malformed("malformed proof in client-final-message");
            }
            if (!in.atEnd()) {
                throw ScramMessageReader.malformed("garbage found at the end of client-final-message");
            }
            String withoutProof = in.text().substring(0, proofStart);

            if (!finalNonce.equals(clientNonce + serverNonce)) {
                throw PgProtocolException.violation("invalid SCRAM response: nonce does not match");
            }

            byte[] authMessage = ScramMessageReader.bytes(clientFirstBare + "," + serverFirst + "," + withoutProof);
            // Verify the proof even for a doomed exchange, so timing does not reveal unknown users.
            byte[] clientSignature = ScramSha256.hmac(storedKey, authMessage);
            byte[] clientKey = ScramSha256.xor(proof, clientSignature);
            boolean proofOk = ScramSha256.constantTimeEquals(ScramSha256.h(clientKey), storedKey);
            Arrays.fill(clientKey, (byte) 0);
            if (!proofOk || doomed) {
                throw new PgProtocolException(SqlState.INVALID_PASSWORD,
                        "password authentication failed for user \"" + userName + "\"");
            }

            byte[] serverSignature = ScramSha256.hmac(serverKey, authMessage);
            state = State.FINISHED;
            return ("v=" + Base64.getEncoder().encodeToString(serverSignature)).getBytes(StandardCharsets.US_ASCII);
        } catch (RuntimeException e) {
            state = State.FAILED;
            throw e;
        }
    }

    /** Whether the client has been authenticated successfully. */
    public boolean isComplete() {
        return state == State.FINISHED;
    }

    private void readClientFirst(ScramMessageReader in) {
        // gs2-cbind-flag: "n" (no channel binding), "y" (client thinks we do not support it),
        // "p=..." (channel binding requested, which we never offered).
        cbindFlag = in.peek();
        switch (cbindFlag) {
            case 'n':
            case 'y':
                in.consume(cbindFlag);
                in.expect(',', "client-first-message");
                break;
            case 'p':
                throw ScramMessageReader.malformed("the client selected SCRAM-SHA-256 without channel binding,"
                        + " but the SCRAM message includes channel binding data");
            default:
                throw ScramMessageReader.malformed("unexpected channel-binding flag "
                        + ScramMessageReader.describe(cbindFlag));
        }

        // Like PostgreSQL, refuse an authorization identity rather than ignore it.
        if (in.peek() == 'a') {
            throw new PgProtocolException(SqlState.FEATURE_NOT_SUPPORTED,
                    "client uses authorization identity, but it is not supported");
        }
        if (!in.consume(',')) {
            throw ScramMessageReader.malformed("unexpected attribute "
                    + ScramMessageReader.describe(in.peek()) + " in client-first-message");
        }

        clientFirstBare = in.text().substring(in.position());

        if (in.peek() == 'm') {
            throw new PgProtocolException(SqlState.FEATURE_NOT_SUPPORTED,
                    "client requires an unsupported SCRAM extension");
        }
        // The user name is ignored: the one from the startup packet counts (libpq sends "n=").
        in.readAttribute('n');
        clientNonce = in.readAttribute('r');
        if (!ScramSha256.isPrintable(clientNonce)) {
            throw PgProtocolException.violation("non-printable characters in SCRAM nonce");
        }
        // Optional extensions, all ignored.
        while (!in.atEnd()) {
            in.readAnyAttribute();
        }
    }

    /** Marks the session failed (a completed session stays complete) and returns {@code e}. */
    private PgProtocolException fail(PgProtocolException e) {
        if (state != State.FINISHED) {
            state = State.FAILED;
        }
        return e;
    }

    private static byte[] mockSalt(byte[] key, String userName) {
        byte[] digest = ScramSha256.hmac(key, userName.getBytes(StandardCharsets.UTF_8));
        return Arrays.copyOf(digest, ScramSha256.DEFAULT_SALT_LENGTH);
    }

    private static byte[] newMockKey() {
        byte[] key = new byte[MOCK_KEY_LENGTH];
        new SecureRandom().nextBytes(key);
        return key;
    }
}
