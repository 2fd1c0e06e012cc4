package io.pgrelay.protocol.auth;

import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;

/**
 * What a SCRAM-SHA-256 server stores about a password: iteration count, salt, StoredKey and
 * ServerKey, in PostgreSQL's {@code pg_authid.rolpassword} format
 * {@code SCRAM-SHA-256$<iterations>:<base64 salt>$<base64 StoredKey>:<base64 ServerKey>}.
 *
 * <p>Immutable and thread-safe. Deriving one from a password costs {@code iterations} rounds of
 * PBKDF2: do it once per configured user (e.g. at startup), never per login.
 */
public final class ScramSecret {
    private final int iterations;
    private final byte[] salt;
    private final byte[] storedKey;
    private final byte[] serverKey;

    private ScramSecret(int iterations, byte[] salt, byte[] storedKey, byte[] serverKey) {
        if (iterations < 1) {
            throw new IllegalArgumentException("iteration count must be positive: " + iterations);
        }
        if (salt.length == 0) {
            throw new IllegalArgumentException("salt must not be empty");
        }
        if (storedKey.length != ScramSha256.KEY_LENGTH || serverKey.length != ScramSha256.KEY_LENGTH) {
            throw new IllegalArgumentException("StoredKey and ServerKey must be " + ScramSha256.KEY_LENGTH + " bytes");
        }
        this.iterations = iterations;
        this.salt = salt;
        this.storedKey = storedKey;
        this.serverKey = serverKey;
    }

    /** A secret from its parts (arrays are copied). */
    public static ScramSecret of(int iterations, byte[] salt, byte[] storedKey, byte[] serverKey) {
        return new ScramSecret(iterations, salt.clone(), storedKey.clone(), serverKey.clone());
    }

    /** Derives a secret with {@value ScramSha256#DEFAULT_ITERATIONS} iterations and a random 16-byte salt. */
    public static ScramSecret fromPassword(String password, SecureRandom random) {
        return fromPassword(password, ScramSha256.DEFAULT_ITERATIONS, random);
    }

    /**
     * Derives a secret with a random {@value ScramSha256#DEFAULT_SALT_LENGTH}-byte salt, as
     * PostgreSQL's {@code pg_be_scram_build_secret()} does (SASLprep with raw-bytes fallback).
     */
    public static ScramSecret fromPassword(String password, int iterations, SecureRandom random) {
        Objects.requireNonNull(random, "random");
        byte[] salt = new byte[ScramSha256.DEFAULT_SALT_LENGTH];
        random.nextBytes(salt);
        return fromPassword(password, salt, iterations);
    }

    /** Derives a secret with the given salt. Deterministic; for tests and migrations. */
    public static ScramSecret fromPassword(String password, byte[] salt, int iterations) {
        Objects.requireNonNull(password, "password");
        Objects.requireNonNull(salt, "salt");
        byte[] salted = ScramSha256.saltedPassword(password, salt, iterations);
        try {
            byte[] clientKey = ScramSha256.clientKey(salted);
            byte[] storedKey = ScramSha256.storedKey(clientKey);
            ScramSha256.wipe(clientKey);
            return new ScramSecret(iterations, salt.clone(), storedKey, ScramSha256.serverKey(salted));
        } finally {
            ScramSha256.wipe(salted);
        }
    }

    /**
     * Parses PostgreSQL's stored form {@code SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>}.
     *
     * @throws IllegalArgumentException if {@code verifier} is not a well-formed SCRAM-SHA-256 secret
     */
    public static ScramSecret parse(String verifier) {
        Objects.requireNonNull(verifier, "verifier");
        int dollar1 = verifier.indexOf('$');
        int colon1 = dollar1 < 0 ? -1 : verifier.indexOf(':', dollar1 + 1);
        int dollar2 = colon1 < 0 ? -1 : verifier.indexOf('$', colon1 + 1);
        int colon2 = dollar2 < 0 ? -1 : verifier.indexOf(':', dollar2 + 1);
        if (colon2 < 0) {
            throw invalid("expected SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>");
        }
        if (!ScramSha256.VERIFIER_SCHEME.equals(verifier.substring(0, dollar1))) {
            throw invalid("unknown scheme");
        }
        String iterationsText = verifier.substring(dollar1 + 1, colon1);
        int iterations;
        try {
            iterations = Integer.parseInt(iterationsText);
        } catch (NumberFormatException e) {
            throw invalid("invalid iteration count");
        }
        if (iterations < 1 || !iterationsText.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw invalid("invalid iteration count");
        }
        byte[] salt = decode(verifier.substring(colon1 + 1, dollar2), "salt");
        byte[] storedKey = decode(verifier.substring(dollar2 + 1, colon2), "StoredKey");
        byte[] serverKey = decode(verifier.substring(colon2 + 1), "ServerKey");
        if (salt.length == 0) {
            throw invalid("empty salt");
        }
        if (storedKey.length != ScramSha256.KEY_LENGTH || serverKey.length != ScramSha256.KEY_LENGTH) {
            throw invalid("StoredKey and ServerKey must decode to " + ScramSha256.KEY_LENGTH + " bytes");
        }
        return new ScramSecret(iterations, salt, storedKey, serverKey);
    }

    /** Whether {@code verifier} looks like a SCRAM-SHA-256 secret (as opposed to md5 or plaintext). */
    public static boolean isScramVerifier(String verifier) {
        if (verifier == null || !verifier.startsWith(ScramSha256.VERIFIER_SCHEME + "$")) {
            return false;
        }
        try {
            parse(verifier);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** PostgreSQL's stored form; {@code parse(s.toVerifier()).equals(s)}. */
    public String toVerifier() {
        Base64.Encoder b64 = Base64.getEncoder();
        return ScramSha256.VERIFIER_SCHEME + "$" + iterations + ":" + b64.encodeToString(salt)
                + "$" + b64.encodeToString(storedKey) + ":" + b64.encodeToString(serverKey);
    }

    /**
     * Whether {@code password} matches this secret (compares ServerKey in constant time), like
     * PostgreSQL's {@code scram_verify_plain_password()}: for clients that send a cleartext
     * password to a user with a SCRAM secret. Costs one PBKDF2 derivation.
     */
    public boolean verifyPassword(String password) {
        Objects.requireNonNull(password, "password");
        byte[] salted = ScramSha256.saltedPassword(password, salt, iterations);
        try {
            return ScramSha256.constantTimeEquals(ScramSha256.serverKey(salted), serverKey);
        } finally {
            ScramSha256.wipe(salted);
        }
    }

    public int iterations() {
        return iterations;
    }

    /** A copy of the salt. */
    public byte[] salt() {
        return salt.clone();
    }

    /** The salt, base64-encoded as sent in server-first-message. */
    public String saltBase64() {
        return Base64.getEncoder().encodeToString(salt);
    }

    /** A copy of StoredKey. */
    public byte[] storedKey() {
        return storedKey.clone();
    }

    /** A copy of ServerKey. */
    public byte[] serverKey() {
        return serverKey.clone();
    }

    // Non-copying accessors for the sessions in this package.
    byte[] storedKeyRef() {
        return storedKey;
    }

    byte[] serverKeyRef() {
        return serverKey;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof ScramSecret)) {
            return false;
        }
        ScramSecret other = (ScramSecret) o;
        return iterations == other.iterations
                && Arrays.equals(salt, other.salt)
                && ScramSha256.constantTimeEquals(storedKey, other.storedKey)
                && ScramSha256.constantTimeEquals(serverKey, other.serverKey);
    }

    @Override
    public int hashCode() {
        return 31 * Integer.hashCode(iterations) + Arrays.hashCode(salt);
    }

    /** Does not reveal the keys. */
    @Override
    public String toString() {
        return "ScramSecret[iterations=" + iterations + ", salt=" + saltBase64() + "]";
    }

    private static byte[] decode(String base64, String what) {
        if (base64.length() % 4 != 0) {
            throw invalid("invalid base64 in " + what);
        }
        try {
            return Base64.getDecoder().decode(base64);
        } catch (IllegalArgumentException e) {
            throw invalid("invalid base64 in " + what);
        }
    }

    private static IllegalArgumentException invalid(String why) {
        // Never echo the verifier: StoredKey and ServerKey are sensitive.
        return new IllegalArgumentException("invalid SCRAM-SHA-256 secret: " + why);
    }
}
