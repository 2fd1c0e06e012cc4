package io.pgrelay.core;

import io.pgrelay.core.backend.BackendTls;
import io.pgrelay.core.config.BackendTlsMode;
import io.pgrelay.core.config.ConfigException;
import io.pgrelay.core.config.ProxyConfig.BackendConfig;
import io.pgrelay.core.net.TlsContexts;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * The TLS toward backends together with what it was built from: the {@code backend.tls*} keys
 * and a digest of the CA, certificate and key files. A reload builds a new context only when
 * either changed, so files renewed in place (same paths) reach the next backend connection.
 */
final class BackendTlsFiles {
    /** The keys the context is built from; the other backend keys need a restart. */
    private record Source(BackendTlsMode mode, String ca, String cert, String key) {
        static Source of(BackendConfig backend) {
            return new Source(backend.tls(), backend.tlsCa(), backend.tlsCert(), backend.tlsKey());
        }
    }

    private final Source source;
    private final byte[] digest;
    private final BackendTls tls;

    private BackendTlsFiles(Source source, byte[] digest, BackendTls tls) {
        this.source = source;
        this.digest = digest;
        this.tls = tls;
    }

    /** Reads the files and builds the context; throws ConfigException when they cannot be used. */
    static BackendTlsFiles load(BackendConfig backend) {
        Source source = Source.of(backend);
        byte[] digest = digest(source);
        BackendTls tls = source.mode().requested()
                ? new BackendTls(source.mode(), TlsContexts.forBackends(backend)) : BackendTls.OFF;
        return new BackendTlsFiles(source, digest, tls);
    }

    /** This instance when nothing changed, else one built from {@code backend} and the files as they are now. */
    BackendTlsFiles reloaded(BackendConfig backend) {
        Source next = Source.of(backend);
        if (source.equals(next) && Arrays.equals(digest, digest(next))) {
            return this;
        }
        return load(backend);
    }

    BackendTls tls() {
        return tls;
    }

    private static byte[] digest(Source source) {
        if (!source.mode().requested()) {
            return null;
        }
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (String file : new String[] {source.ca(), source.cert(), source.key()}) {
                if (file != null) {
                    sha.update(Files.readAllBytes(Path.of(file)));
                }
            }
            return sha.digest();
        } catch (IOException e) {
            throw new ConfigException("backend.tls: cannot read " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
