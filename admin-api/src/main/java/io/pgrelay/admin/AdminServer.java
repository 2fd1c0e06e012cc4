package io.pgrelay.admin;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.pgrelay.core.config.HostPort;
import io.pgrelay.core.net.Transport;
import io.pgrelay.core.ops.ProxyView;
import io.pgrelay.core.reload.ConfigReload;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The admin HTTP listener: REST API, health probes and Prometheus metrics. Runs on its
 * own single event loop so it answers even when the proxy's workers are saturated.
 */
public final class AdminServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);
    private static final int MAX_REQUEST_BYTES = 1024 * 1024;

    private final ProxyView proxy;
    private final Transport transport = Transport.best();
    private final EventLoopGroup group = transport.newGroup(1, "pgrelay-admin");
    private final AdminApi api;
    private Channel channel;

    /** An admin API over {@code proxy}, listening where its {@code admin.listen} says once started. */
    public AdminServer(ProxyView proxy, ConfigReload reload) {
        this.proxy = proxy;
        this.api = new AdminApi(proxy, reload);
    }

    public AdminServer start() throws InterruptedException {
        var listen = proxy.config().admin().listen();
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannel())
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec());
                        ch.pipeline().addLast(new HttpObjectAggregator(MAX_REQUEST_BYTES));
                        ch.pipeline().addLast(new AdminHttpHandler(api));
                    }
                });
        if (proxy.config().listenReusePort()) {
            transport.reusePort(bootstrap); // a successor binds the admin port too while this one drains
        }
        channel = bootstrap.bind(listen.host(), listen.port()).sync().channel();
        log.info("admin API listening on {}", url(listen, address().getPort()));
        return this;
    }

    /**
     * The base URL for a configured address and the port bound: the host as configured (a wildcard
     * bind reports itself as {@code 0:0:0:0:0:0:0:0}), in brackets when it is an IPv6 literal.
     */
    static String url(HostPort listen, int port) {
        return "http://" + new HostPort(listen.host(), port);
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    @Override
    public void close() {
        if (channel != null) {
            channel.close().awaitUninterruptibly();
        }
        api.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
    }
}
