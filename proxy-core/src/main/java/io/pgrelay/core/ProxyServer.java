package io.pgrelay.core;

import com.codahale.metrics.MetricRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.pgrelay.core.auth.ClientCredentials;
import io.pgrelay.core.auth.UserDirectory;
import io.pgrelay.core.backend.BackendConnector;
import io.pgrelay.core.backend.EventLoops;
import io.pgrelay.core.backend.PoolManager;
import io.pgrelay.core.classify.CatalogService;
import io.pgrelay.core.classify.ClassifierConfig;
import io.pgrelay.core.classify.JdbcConnectionSource;
import io.pgrelay.core.cluster.ClusterMonitor;
import io.pgrelay.core.cluster.ClusterState;
import io.pgrelay.core.cluster.NodeStatus;
import io.pgrelay.core.cluster.Topology;
import io.pgrelay.core.config.HostPort;
import io.pgrelay.core.config.ProxyConfig;
import io.pgrelay.core.config.TlsMode;
import io.pgrelay.core.console.ConsoleSession;
import io.pgrelay.core.metrics.ProxyMetrics;
import io.pgrelay.core.net.ReloadingServerTls;
import io.pgrelay.core.net.TlsContexts;
import io.pgrelay.core.net.Transport;
import io.pgrelay.core.ops.PgClusterOperations;
import io.pgrelay.core.ops.ProxyView;
import io.pgrelay.core.route.PrimaryGate;
import io.pgrelay.core.route.ReadPolicy;
import io.pgrelay.core.route.ReplicaBalancer;
import io.pgrelay.core.session.CancelRegistry;
import io.pgrelay.core.session.CancelSender;
import io.pgrelay.core.session.CatalogSessionClassifiers;
import io.pgrelay.core.session.ClientAdmission;
import io.pgrelay.core.session.ClientLogin;
import io.pgrelay.core.session.ClientRegistry;
import io.pgrelay.core.session.ClientStartupHandler;
import io.pgrelay.core.session.ConnectionLimits;
import io.pgrelay.core.session.LoggedInHandlers;
import io.pgrelay.core.session.SessionFactory;
import io.pgrelay.protocol.codec.StartupPacketDecoder;
import io.pgrelay.protocol.message.frontend.StartupMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The client-facing PostgreSQL listener and everything it needs: worker event loops,
 * backend pools, the cluster monitor. This is where the proxy is wired: each handler, the
 * console and the admin API get the parts they use, and operators see the proxy through
 * {@link #view()}. {@link #start()} probes the cluster once before accepting clients, so the
 * first client already knows the primary.
 */
public final class ProxyServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ProxyServer.class);

    /** Pause reading the peer above 256 kB queued; resume below 64 kB. */
    public static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(64 * 1024, 256 * 1024);

    private final ProxyConfig config;
    private final Transport transport = Transport.best();
    private final EventLoopGroup workers;
    private final EventLoops loops;
    private final ClusterMonitor monitor;
    private final PoolManager pools;
    private final ChannelGroup clients = new DefaultChannelGroup("clients", GlobalEventExecutor.INSTANCE);
    private final CatalogService catalogs;
    private final PgClusterOperations operations;
    private final ProxyView view;
    private final ClientAdmission admission;
    private final ClientLogin login;
    private final ReloadingServerTls clientTls;
    private Channel serverChannel;

    /**
     * Half the cores, at least one: a relayed round trip costs the kernel (loopback or NIC
     * softirq, wakeups) about as much CPU as the proxy thread itself, and fewer loops serve
     * more ready sockets per wakeup. Measured on 2 cores, select-only 8 clients: one loop
     * 23-26 µs of proxy CPU per transaction and the higher TPS, two loops 29.6-29.8 µs
     * (docs/benchmarks.md).
     */
    static int defaultWorkers(int cores) {
        return Math.max(1, cores / 2);
    }

    public ProxyServer(ProxyConfig config, MetricRegistry registry) {
        this.config = config;
        int threads = config.workers() > 0 ? config.workers() : defaultWorkers(Runtime.getRuntime().availableProcessors());
        this.workers = transport.newGroup(threads, "pgrelay-worker");
        this.loops = new EventLoops(workers);
        ClusterState cluster = new ClusterState(config.nodes());
        this.catalogs = new CatalogService(new JdbcConnectionSource(() -> primaryFirst(cluster),
                config.monitor().user(), config.monitor().password(), config.monitor().connectTimeout()));
        BackendConnector connector = new BackendConnector(transport, config.backend().tls(),
                TlsContexts.forBackends(config.backend().tls()), config.backend().connectTimeout(),
                config.backend().applicationName(), config.maxMessageBytes());
        this.monitor = new ClusterMonitor(cluster, config.nodes(), config.monitor());
        PrimaryGate gate = new PrimaryGate();
        this.operations = new PgClusterOperations(config, cluster, monitor, gate);
        this.pools = new PoolManager(config.pool(), connector, loops);
        UserDirectory users = new UserDirectory(config.auth());
        CancelRegistry cancels = new CancelRegistry();
        this.clientTls = reloadingClientTls(config.tls());
        ClientAdmission.Tls tls = clientTls != null ? new ClientAdmission.Tls(config.tls().mode(), clientTls)
                : new ClientAdmission.Tls(config.tls().mode(), TlsContexts.forClients(config.tls()));
        ReadPolicy readPolicy = new ReadPolicy(config.routing());
        AtomicInteger clientCount = new AtomicInteger();
        ProxyMetrics metrics = new ProxyMetrics(registry, cluster);
        metrics.watchClients(clientCount::get);
        metrics.watchPools(pools::pools);
        metrics.watchClassifiers(catalogs::classifiers);
        operations.countEvents(metrics::failover, metrics::switchover);
        ClientRegistry clientRegistry = new ClientRegistry();
        this.view = new LiveProxyView(config, cluster, readPolicy, pools, clientRegistry, metrics, operations);
        SessionFactory sessions = new SessionFactory(config, cluster, monitor, pools,
                new CatalogSessionClassifiers(catalogs, ClassifierConfig.from(config.routing())),
                ReplicaBalancer.of(config.routing().balance()), readPolicy, gate, metrics, cancels,
                new CancelSender(transport));
        this.admission = new ClientAdmission(tls, config.maxClientConnections(), config.maxMessageBytes(), cancels,
                clientCount, metrics, config.limits().clientStartupTimeout());
        this.login = new ClientLogin(users, config.auth().method(), ClientLogin.consoleUsers(config),
                clientRegistry, metrics, new Served(sessions, view), new ConnectionLimits(config.limits()));
    }

    /** TLS toward clients from certificate files, watched for changes; null without files (or TLS). */
    private static ReloadingServerTls reloadingClientTls(ProxyConfig.TlsConfig tls) {
        if (tls.mode() == TlsMode.DISABLE || tls.cert() == null) {
            return null;
        }
        return new ReloadingServerTls(Path.of(tls.cert()), Path.of(tls.key())).watch(tls.reloadInterval());
    }

    /**
     * Reads the client-facing TLS certificate and key files again: new connections use them if
     * they load, otherwise nothing changes (the result says why). Reads files: call it from a
     * thread of its own (signal handler, admin request), never from an event loop.
     */
    public ReloadingServerTls.Result reloadTls() {
        if (clientTls == null) {
            return new ReloadingServerTls.Result(ReloadingServerTls.Outcome.UNCHANGED,
                    "no certificate files configured (tls.cert, tls.key)");
        }
        return clientTls.reload();
    }

    /** Authenticated clients get a session, or the console over this proxy's view. */
    private record Served(SessionFactory sessions, ProxyView view) implements LoggedInHandlers {
        @Override
        public ChannelHandler session(StartupMessage startup, ClientCredentials credentials) {
            return sessions.session(startup, credentials);
        }

        @Override
        public ChannelHandler console(StartupMessage startup, ClientRegistry.Entry client) {
            return new ConsoleSession(view, startup, client::applicationName);
        }
    }

    public ProxyServer start() throws InterruptedException {
        monitor.start();
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(workers)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        clients.add(channel);
                        channel.pipeline().addLast("startup", new StartupPacketDecoder());
                        channel.pipeline().addLast("client-startup", new ClientStartupHandler(admission, login));
                    }
                });
        serverChannel = bootstrap.bind(config.listen().host(), config.listen().port()).sync().channel();
        log.info("pgrelay listening on {} ({} transport, {} workers, pool mode {})", serverChannel.localAddress(),
                transport.name().toLowerCase(Locale.ROOT), loops.size(), config.poolMode().name().toLowerCase(Locale.ROOT));
        return this;
    }

    /** Catalog connections try the known primary first, then every other node. */
    private static List<HostPort> primaryFirst(ClusterState cluster) {
        Topology topology = cluster.current();
        List<HostPort> nodes = new ArrayList<>();
        NodeStatus primary = topology.primary();
        if (primary != null) {
            nodes.add(new HostPort(primary.host(), primary.port()));
        }
        for (NodeStatus node : topology.nodes()) {
            if (node != primary) {
                nodes.add(new HostPort(node.host(), node.port()));
            }
        }
        return nodes;
    }

    public CatalogService catalogs() {
        return catalogs;
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) serverChannel.localAddress();
    }

    /** The proxy as the SQL console and the admin API see it. */
    public ProxyView view() {
        return view;
    }

    @Override
    public void close() {
        if (serverChannel != null) {
            serverChannel.close().awaitUninterruptibly();
        }
        clients.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        operations.close();
        if (clientTls != null) {
            clientTls.close();
        }
        pools.close();
        monitor.close();
        catalogs.close();
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        log.info("pgrelay stopped");
    }
}
