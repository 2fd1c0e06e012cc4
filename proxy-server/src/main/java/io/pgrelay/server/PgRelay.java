package io.pgrelay.server;

import com.codahale.metrics.MetricRegistry;
import io.pgrelay.admin.AdminServer;
import io.pgrelay.core.ProxyServer;
import io.pgrelay.core.config.HostPort;
import io.pgrelay.core.config.ProxyConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A running pgrelay: the PostgreSQL listener plus the admin API, started and stopped together,
 * reloading its configuration file on SIGHUP or {@code POST /api/v1/reload}.
 */
public final class PgRelay implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PgRelay.class);

    private final ProxyServer proxy;
    private final AdminServer admin;
    private final ConfigReloader reloader;
    private final ExecutorService reloads;

    private PgRelay(ProxyServer proxy, AdminServer admin, ConfigReloader reloader, ExecutorService reloads) {
        this.proxy = proxy;
        this.admin = admin;
        this.reloader = reloader;
        this.reloads = reloads;
    }

    /** Starts with {@code config}, as loaded from {@code file}; reloads read {@code file} again. */
    public static PgRelay start(Path file, ProxyConfig config) throws InterruptedException {
        LogLevels logLevels = new LogLevels();
        logLevels.apply(config.logLevels());
        MetricRegistry metrics = new MetricRegistry();
        ProxyServer proxy = new ProxyServer(config, metrics);
        try {
            proxy.start();
            ConfigReloader reloader = new ConfigReloader(file, proxy, logLevels);
            AdminServer admin = new AdminServer(proxy.view(), reloader).start();
            proxy.join(new HostPort(config.admin().listen().host(), admin.address().getPort()));
            ExecutorService reloads = Executors.newSingleThreadExecutor(r -> {
                Thread thread = new Thread(r, "pgrelay-reload");
                thread.setDaemon(true);
                return thread;
            });
            return new PgRelay(proxy, admin, reloader, reloads);
        } catch (InterruptedException | RuntimeException e) {
            proxy.close(); // leaves the other instances too, if it joined them
            throw e;
        }
    }

    /** Reloads on SIGHUP (off the signal thread); the outcome goes to the log. */
    public void reloadOnHangup() {
        HangupSignal.onHangup(() -> reloads.execute(() -> {
            try {
                reloader.reload("SIGHUP");
            } catch (RuntimeException e) {
                if (!(e instanceof io.pgrelay.core.config.ConfigException)) {
                    log.error("configuration reload (SIGHUP) failed", e);
                }
            }
        }));
    }

    public ProxyServer proxy() {
        return proxy;
    }

    public InetSocketAddress address() {
        return proxy.address();
    }

    public InetSocketAddress adminAddress() {
        return admin.address();
    }

    /**
     * Stops accepting on both listeners first (with SO_REUSEPORT a successor on the same ports
     * takes the new connections), then lets the sessions finish ({@code shutdown-timeout}).
     */
    @Override
    public void close() {
        proxy.stopAccepting();
        admin.close();
        reloads.shutdownNow();
        proxy.close();
        try {
            reloads.awaitTermination(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
