package io.pgrelay.core.net;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.pgrelay.core.config.ConfigException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The server-side TLS context built from a certificate and key file, replaced without a restart
 * when the files change: a scheduler thread (never an event loop) reads them every
 * {@code interval} and builds a new context when their content differs; {@link #reload()} does
 * the same on demand. New connections take the current context, open ones keep theirs. A pair
 * that does not load (unreadable, malformed, key not matching the certificate) leaves the old
 * context in place and is logged once with the reason.
 */
public final class ReloadingServerTls implements Supplier<SslContext>, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ReloadingServerTls.class);
    private static final Pattern PKCS8 = Pattern.compile(
            "-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)-----END PRIVATE KEY-----");

    /** What a reload did. */
    public enum Outcome { RELOADED, UNCHANGED, FAILED }

    /** A reload's outcome and, when it failed, why (never key material). */
    public record Result(Outcome outcome, String detail) {
    }

    private record Loaded(SslContext context, byte[] digest) {
    }

    private final Path cert;
    private final Path key;
    private final AtomicReference<Loaded> current = new AtomicReference<>();
    private final Object reloading = new Object();
    private byte[] lastFailedDigest;
    private ScheduledExecutorService watcher;

    /** Loads the pair now; a pair that does not load is a configuration error. */
    public ReloadingServerTls(Path cert, Path key) {
        this.cert = cert;
        this.key = key;
        try {
            byte[][] files = read();
            current.set(new Loaded(build(files), digest(files)));
        } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
            throw new ConfigException("tls: " + reason(e), e);
        }
    }

    @Override
    public SslContext get() {
        return current.get().context();
    }

    /** Polls the files every {@code interval} (0: never) on a thread of its own. */
    public ReloadingServerTls watch(Duration interval) {
        if (interval.isZero() || watcher != null) {
            return this;
        }
        watcher = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "pgrelay-tls-reload");
            thread.setDaemon(true);
            return thread;
        });
        long millis = Math.max(1, interval.toMillis());
        watcher.scheduleWithFixedDelay(this::poll, millis, millis, TimeUnit.MILLISECONDS);
        return this;
    }

    private void poll() {
        try {
            Result result = reloadIfChanged(false);
            if (result.outcome() == Outcome.RELOADED) {
                log.info("tls: certificate {} and key {} changed; new connections use them", cert, key);
            }
        } catch (RuntimeException e) {
            log.warn("tls: checking {} and {} failed: {}", cert, key, e.toString());
        }
    }

    /**
     * Reads the certificate and key again and uses them for new connections if they load;
     * otherwise keeps the current context. Safe to call from any thread except an event loop
     * (it reads files).
     */
    public Result reload() {
        Result result = reloadIfChanged(true);
        switch (result.outcome()) {
            case RELOADED -> log.info("tls: reloaded certificate {} and key {}", cert, key);
            case UNCHANGED -> log.info("tls: certificate {} and key {} unchanged", cert, key);
            case FAILED -> {
            }
        }
        return result;
    }

    private Result reloadIfChanged(boolean forced) {
        synchronized (reloading) {
            byte[][] files;
            byte[] digest;
            try {
                files = read();
                digest = digest(files);
            } catch (IOException | GeneralSecurityException e) {
                return failed(null, forced, reason(e));
            }
            if (Arrays.equals(digest, current.get().digest())) {
                return new Result(Outcome.UNCHANGED, null);
            }
            if (!forced && Arrays.equals(digest, lastFailedDigest)) {
                return new Result(Outcome.FAILED, "unchanged since the last failed attempt");
            }
            try {
                current.set(new Loaded(build(files), digest));
                lastFailedDigest = null;
                return new Result(Outcome.RELOADED, null);
            } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
                return failed(digest, forced, reason(e));
            }
        }
    }

    private Result failed(byte[] digest, boolean forced, String reason) {
        if (forced || digest == null || !Arrays.equals(digest, lastFailedDigest)) {
            log.warn("tls: keeping the current certificate: {} and {} do not load: {}", cert, key, reason);
        }
        lastFailedDigest = digest;
        return new Result(Outcome.FAILED, reason);
    }

    private byte[][] read() throws IOException {
        return new byte[][] {Files.readAllBytes(cert), Files.readAllBytes(key)};
    }

    private static byte[] digest(byte[][] files) throws GeneralSecurityException {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        for (byte[] file : files) {
            sha.update(file);
            sha.update((byte) 0);
        }
        return sha.digest();
    }

    private static SslContext build(byte[][] files) throws IOException, GeneralSecurityException {
        List<? extends Certificate> chain = List.copyOf(CertificateFactory.getInstance("X.509")
                .generateCertificates(new ByteArrayInputStream(files[0])));
        if (chain.isEmpty()) {
            throw new GeneralSecurityException("no certificate in the certificate file");
        }
        requireMatchingKey(chain.get(0), files[1]);
        try {
            return SslContextBuilder.forServer(new ByteArrayInputStream(files[0]), new ByteArrayInputStream(files[1]))
                    .build();
        } catch (SSLException e) {
            throw new GeneralSecurityException(e.getMessage(), e);
        }
    }

    /**
     * A certificate replaced before its key (or the other way round) must not be taken: sign with
     * the key, verify with the certificate. Only for PKCS#8 keys, the form the JDK reads.
     */
    private static void requireMatchingKey(Certificate certificate, byte[] keyFile) throws GeneralSecurityException {
        Matcher pem = PKCS8.matcher(new String(keyFile, StandardCharsets.US_ASCII));
        if (!pem.find()) {
            return; // another key format: the TLS provider checks it
        }
        byte[] der = Base64.getMimeDecoder().decode(pem.group(1).replaceAll("\\s", ""));
        String algorithm = certificate.getPublicKey().getAlgorithm();
        PrivateKey privateKey = KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
        String signatureAlgorithm = switch (algorithm) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> null;
        };
        if (signatureAlgorithm == null) {
            return;
        }
        byte[] probe = "pgrelay key check".getBytes(StandardCharsets.US_ASCII);
        Signature signer = Signature.getInstance(signatureAlgorithm);
        signer.initSign(privateKey);
        signer.update(probe);
        byte[] signature = signer.sign();
        Signature verifier = Signature.getInstance(signatureAlgorithm);
        verifier.initVerify(certificate.getPublicKey());
        verifier.update(probe);
        if (!verifier.verify(signature)) {
            throw new GeneralSecurityException("the key does not belong to the certificate");
        }
    }

    private static String reason(Exception e) {
        String message = e.getMessage();
        return e.getClass().getSimpleName() + (message == null ? "" : ": " + message);
    }

    @Override
    public void close() {
        if (watcher != null) {
            watcher.shutdownNow();
        }
    }
}
