package io.pgrelay.protocol.auth;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.Objects;

/**
 * Supplies the local part of a SCRAM nonce. Every nonce must consist of RFC 5802 "printable"
 * characters (ASCII {@code 0x21-0x7E} except comma); the sessions check this.
 * Production code uses {@link #secureRandom(SecureRandom)}; tests inject fixed nonces.
 */
@FunctionalInterface
public interface NonceSource {
    /** A fresh nonce. */
    String nextNonce();

    /**
     * Nonces as PostgreSQL makes them: {@value ScramSha256#RAW_NONCE_LENGTH} random bytes,
     * base64-encoded (24 characters). {@link SecureRandom} is thread-safe, so one source can be
     * shared by all sessions.
     */
    static NonceSource secureRandom(SecureRandom random) {
        Objects.requireNonNull(random, "random");
        return () -> {
            byte[] raw = new byte[ScramSha256.RAW_NONCE_LENGTH];
            random.nextBytes(raw);
            return Base64.getEncoder().encodeToString(raw);
        };
    }

    /** Always returns {@code nonce}. For tests and test vectors only: never reuse nonces in production. */
    static NonceSource fixed(String nonce) {
        Objects.requireNonNull(nonce, "nonce");
        return () -> nonce;
    }
}
