package io.pgrelay.server;

import com.codahale.metrics.MetricRegistry;
import io.pgrelay.admin.AdminServer;
import io.pgrelay.core.ProxyServer;
import io.pgrelay.core.config.ProxyConfig;

import java.net.InetSocketAddress;

/** A running pgrelay: the PostgreSQL listener plus the admin API, started and stopped together. */
public final class PgRelay implements AutoCloseable {
    private final ProxyServer proxy;
    private final AdminServer admin;

    private PgRelay(ProxyServer proxy, AdminServer admin) {
        this.proxy = proxy;
        this.admin = admin;
    }

    public static PgRelay start(ProxyConfig config) throws InterruptedException {
        MetricRegistry metrics = new MetricRegistry();
        ProxyServer proxy = new ProxyServer(config, metrics);
        try {
            proxy.start();
            AdminServer admin = new AdminServer(proxy.view()).start();
            return new PgRelay(proxy, admin);
        } catch (InterruptedException | RuntimeException e) {
            proxy.close();
            throw e;
        }
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

    @Override
    public void close() {
        admin.close();
        proxy.close();
    }
}
