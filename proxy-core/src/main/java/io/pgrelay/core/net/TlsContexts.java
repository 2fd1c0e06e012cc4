package io.pgrelay.core.net;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.handler.ssl.util.SelfSignedCertificate;
import io.pgrelay.core.config.BackendTlsMode;
import io.pgrelay.core.config.ConfigException;
import io.pgrelay.core.config.ProxyConfig.BackendConfig;
import io.pgrelay.core.config.ProxyConfig.TlsConfig;
import io.pgrelay.core.config.TlsMode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLException;
import java.io.File;
import java.security.cert.CertificateException;

/** Builds the TLS contexts: the server side for clients, the client side toward backends. */
public final class TlsContexts {
    private static final Logger log = LoggerFactory.getLogger(TlsContexts.class);

    private TlsContexts() {
    }

    /** The context for client connections, or null when TLS is disabled. */
    public static SslContext forClients(TlsConfig tls) {
        if (tls.mode() == TlsMode.DISABLE) {
            return null;
        }
        try {
            if (tls.cert() != null) {
                File cert = new File(tls.cert());
                File key = new File(tls.key());
                if (!cert.canRead() || !key.canRead()) {
                    throw new ConfigException("tls: cannot read " + (!cert.canRead() ? cert : key));
                }
                return SslContextBuilder.forServer(cert, key).build();
            }
            SelfSignedCertificate selfSigned = new SelfSignedCertificate("pgrelay");
            log.warn("tls: no cert/key configured; using a self-signed certificate generated at start. "
                    + "Clients that verify certificates (sslmode=verify-ca/verify-full) will refuse it.");
            return SslContextBuilder.forServer(selfSigned.certificate(), selfSigned.privateKey()).build();
        } catch (SSLException | CertificateException | IllegalArgumentException e) {
            throw new ConfigException("tls: " + e.getMessage(), e);
        }
    }

    /**
     * The context for backend connections, or null when {@code backend.tls} is disable. As
     * libpq: {@code prefer} and {@code require} encrypt without checking the server certificate,
     * {@code verify-ca} checks its chain against {@code backend.tls-ca}, {@code verify-full} also
     * its host name (RFC 2818, as HTTPS: DNS names with wildcards, an IP address only as an IP
     * subject alternative name); {@code backend.tls-cert} and {@code tls-key} are shown to
     * servers that ask for a client certificate.
     */
    public static SslContext forBackends(BackendConfig backend) {
        BackendTlsMode mode = backend.tls();
        if (!mode.requested()) {
            return null;
        }
        SslContextBuilder builder = SslContextBuilder.forClient();
        try {
            if (mode.verifiesCertificate()) {
                builder.trustManager(readable("backend.tls-ca", backend.tlsCa()));
            } else {
                builder.trustManager(InsecureTrustManagerFactory.INSTANCE);
            }
            // Netty 4.2 checks host names by default; only verify-full asks for it.
            builder.endpointIdentificationAlgorithm(mode.verifiesHostName() ? "HTTPS" : null);
            if (backend.tlsCert() != null) {
                builder.keyManager(readable("backend.tls-cert", backend.tlsCert()),
                        readable("backend.tls-key", backend.tlsKey()));
            }
            return builder.build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new ConfigException("backend.tls: cannot use " + files(backend) + ": " + rootMessage(e), e);
        }
    }

    private static File readable(String key, String path) {
        File file = new File(path);
        if (!file.canRead()) {
            throw new ConfigException(key + ": cannot read " + file);
        }
        return file;
    }

    private static String files(BackendConfig backend) {
        StringBuilder sb = new StringBuilder();
        for (String file : new String[] {backend.tlsCa(), backend.tlsCert(), backend.tlsKey()}) {
            if (file != null) {
                sb.append(sb.length() == 0 ? "" : ", ").append(file);
            }
        }
        return sb.length() == 0 ? "the TLS defaults" : sb.toString();
    }

    /** The innermost message: Netty's wrappers say "failed to initialize", the cause says why. */
    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() != null ? root.getMessage() : root.getClass().getSimpleName();
    }
}
