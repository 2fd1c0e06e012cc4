package io.pgrelay.core.net;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.handler.ssl.util.SelfSignedCertificate;
import io.pgrelay.core.config.ConfigException;
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
     * The context for backend connections, or null when disabled. Like libpq's
     * {@code sslmode=require}, it encrypts without verifying the server certificate.
     */
    public static SslContext forBackends(TlsMode mode) {
        if (mode == TlsMode.DISABLE) {
            return null;
        }
        try {
            return SslContextBuilder.forClient().trustManager(InsecureTrustManagerFactory.INSTANCE).build();
        } catch (SSLException e) {
            throw new ConfigException("backend.tls: " + e.getMessage(), e);
        }
    }
}
