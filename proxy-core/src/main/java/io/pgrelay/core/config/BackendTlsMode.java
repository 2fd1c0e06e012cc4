package io.pgrelay.core.config;

/**
 * TLS toward the PostgreSQL servers, with libpq's {@code sslmode} values and meaning:
 * {@code prefer} falls back to plain text when the server has no TLS, {@code require} encrypts
 * without checking the certificate, {@code verify-ca} also checks that a trusted CA
 * ({@code backend.tls-ca}) signed it, and {@code verify-full} also that it names the node's
 * {@code host}. (Client-side {@code tls.mode} is a {@link TlsMode}: verifying is the client's
 * business there.)
 */
public enum BackendTlsMode {
    DISABLE, PREFER, REQUIRE, VERIFY_CA, VERIFY_FULL;

    /** Whether pgrelay asks the server for TLS at all. */
    public boolean requested() {
        return this != DISABLE;
    }

    /** Whether a server without TLS is refused rather than used in plain text. */
    public boolean required() {
        return this == REQUIRE || verifiesCertificate();
    }

    /** Whether the server certificate must be signed by a CA of {@code backend.tls-ca}. */
    public boolean verifiesCertificate() {
        return this == VERIFY_CA || this == VERIFY_FULL;
    }

    /** Whether the server certificate must also name the host pgrelay connected to. */
    public boolean verifiesHostName() {
        return this == VERIFY_FULL;
    }

    /** As written in the configuration ({@code verify-full}). */
    public String configName() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
}
