package io.pgrelay.core;

import io.pgrelay.core.config.ConfigException;
import io.pgrelay.core.config.ProxyConfig.TlsConfig;
import io.pgrelay.core.config.TlsMode;
import io.pgrelay.core.net.TlsContexts;
import io.pgrelay.core.session.ClientAdmission;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * The TLS context toward clients together with what it was built from: the {@code tls} keys and
 * a digest of the certificate and key files. A reload builds a new context only when either
 * changed, so renewing the files in place (same paths) is picked up, and an unchanged
 * self-signed certificate is kept.
 */
final class ClientTlsFiles {
    private final TlsConfig config;
    private final byte[] digest;
    private final ClientAdmission.Tls admission;

    private ClientTlsFiles(TlsConfig config, byte[] digest, ClientAdmission.Tls admission) {
        this.config = config;
        this.digest = digest;
        this.admission = admission;
    }

    /** Reads the files and builds the context; throws ConfigException when they cannot be used. */
    static ClientTlsFiles load(TlsConfig tls) {
        byte[] digest = digest(tls);
        return new ClientTlsFiles(tls, digest, new ClientAdmission.Tls(tls.mode(), TlsContexts.forClients(tls)));
    }

    /** This instance when nothing changed, else one built from {@code tls} and the files as they are now. */
    ClientTlsFiles reloaded(TlsConfig tls) {
        if (config.equals(tls) && Arrays.equals(digest, digest(tls))) {
            return this;
        }
        return load(tls);
    }

    ClientAdmission.Tls admission() {
        return admission;
    }

    private static byte[] digest(TlsConfig tls) {
        if (tls.mode() == TlsMode.DISABLE || tls.cert() == null) {
            return null;
        }
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(Files.readAllBytes(Path.of(tls.cert())));
            sha.update(Files.readAllBytes(Path.of(tls.key())));
            return sha.digest();
        } catch (IOException e) {
            throw new ConfigException("tls: cannot read " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
