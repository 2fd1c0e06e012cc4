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
import io.pgrelay.core.cluster.PrimaryPositionQuery;
import io.pgrelay.core.cluster.PrimaryPositions;
import io.pgrelay.core.cluster.ReplayPositions;
import io.pgrelay.core.cluster.ClusterState;
import io.pgrelay.core.cluster.NodeStatus;
import io.pgrelay.core.cluster.Topology;
import io.pgrelay.core.config.ConfigException;
import io.pgrelay.core.config.HostPort;
import io.pgrelay.core.config.ProxyConfig;
import io.pgrelay.core.config.Version;
import io.pgrelay.core.config.ProxyConfig.NodeConfig;
import io.pgrelay.core.console.ConsoleSession;
import io.pgrelay.core.coordination.AdvertisedHost;
import io.pgrelay.core.coordination.Coordinator;
import io.pgrelay.core.coordination.ProxyMember;
import io.pgrelay.core.coordination.RecordKeeper;
import io.pgrelay.core.metrics.ProxyMetrics;
import io.pgrelay.core.net.RelayBuffers;
import io.pgrelay.core.net.Transport;
import io.pgrelay.core.ops.ClusterOperations;
import io.pgrelay.core.ops.LeaderRoutedOperations;
import io.pgrelay.core.ops.PgClusterOperations;
import io.pgrelay.core.ops.PromotionGuard;
import io.pgrelay.core.ops.ProxyView;
import io.pgrelay.core.ops.ReplicationMode;
import io.pgrelay.core.reload.ConfigChanges;
import io.pgrelay.core.reload.NodeChanges;
import io.pgrelay.core.reload.ReloadReport;
import io.pgrelay.core.route.PrimaryGate;
import io.pgrelay.core.route.ReadPolicy;
import io.pgrelay.core.route.ReplicaBalancer;
import io.pgrelay.core.session.CancelRegistry;
import io.pgrelay.core.session.CancelForwarder;
import io.pgrelay.core.session.CancelSender;
import io.pgrelay.core.session.CatalogSessionClassifiers;
import io.pgrelay.core.session.ClientAdmission;
import io.pgrelay.core.session.ClientLogin;
import io.pgrelay.core.session.ClientRegistry;
import io.pgrelay.core.session.ClientShutdown;
import io.pgrelay.core.session.ClientStartupHandler;
import io.pgrelay.core.session.ConnectionLimits;
import io.pgrelay.core.session.LoggedInHandlers;
import io.pgrelay.core.session.SessionFactory;
import io.pgrelay.core.session.SilentServers;
import io.pgrelay.protocol.codec.StartupPacketDecoder;
import io.pgrelay.protocol.message.frontend.StartupMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
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

    private final Transport transport = Transport.best();
    private final EventLoopGroup workers;
    private final EventLoops loops;
    private final ClusterState cluster;
    private final ClusterMonitor monitor;
    /** Global reads' primary positions: a thread and connection of their own, connected on first use. */
    private final PrimaryPositions primaryPositions;
    /** Replay positions replicas confirmed to sessions, shared by all of them. */
    private final ReplayPositions replayPositions = new ReplayPositions();
    private final PoolManager pools;
    private final ChannelGroup clients = new DefaultChannelGroup("clients", GlobalEventExecutor.INSTANCE);
    private final CatalogService catalogs;
    private final PgClusterOperations operations;
    private final PrimaryGate gate = new PrimaryGate();
    private final ProxyMetrics metrics;
    private final CancelRegistry cancels;
    private final CancelForwarder cancelForwarder;
    private final CancelSender cancelSender;
    private final AtomicInteger clientCount = new AtomicInteger();
    private final ClientRegistry clientRegistry = new ClientRegistry();
    private final ProxyView view;
    /** Restart-only: {@code coordination} is read once, here. */
    private final Coordinator coordinator;
    /** What new connections are served with; a reload swaps it whole, connections read it once. */
    private volatile Front front;
    private Channel serverChannel;

    /**
     * The parts of the proxy a reload may replace: the effective configuration and everything
     * built from its reloadable keys. Sessions keep the parts they started with.
     */
    private record Front(ProxyConfig config, ReadPolicy readPolicy, ClientAdmission admission, ClientLogin login,
                         ClientTlsFiles tls, BackendTlsFiles backendTls, ConnectionLimits limits) {
    }

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
        int threads = config.workers() > 0 ? config.workers() : defaultWorkers(Runtime.getRuntime().availableProcessors());
        this.workers = transport.newGroup(threads, "pgrelay-worker");
        this.loops = new EventLoops(workers);
        this.cluster = new ClusterState(config.nodes());
        this.catalogs = new CatalogService(new JdbcConnectionSource(() -> primaryFirst(cluster),
                config.monitor().user(), config.monitor().password(), config.monitor().connectTimeout()));
        this.monitor = new ClusterMonitor(cluster, config.nodes(), config.monitor());
        this.primaryPositions = new PrimaryPositions(new PrimaryPositionQuery(cluster, config.monitor()));
        this.cancelSender = new CancelSender(transport);
        BackendTlsFiles backendTls = BackendTlsFiles.load(config.backend());
        BackendConnector connector = new BackendConnector(transport, config.backend(),
                () -> front.backendTls().tls(), config.maxMessageBytes(),
                new SilentServers(cancelSender, cluster, monitor, config.monitor().banTime().toMillis()));
        this.operations = new PgClusterOperations(config, cluster, monitor, gate);
        this.pools = new PoolManager(config.pool(), connector, loops);
        this.metrics = new ProxyMetrics(registry, cluster);
        metrics.watchClients(clientCount::get);
        metrics.watchPools(pools::pools);
        metrics.watchClassifiers(catalogs::classifiers);
        metrics.watchGlobalPositions(primaryPositions::requests, primaryPositions::queries);
        operations.countEvents(metrics::failover, metrics::switchover);
        this.coordinator = Coordinator.of(config.coordination());
        this.cancelForwarder = new CancelForwarder(coordinator::membership, metrics);
        this.cancels = new CancelRegistry(coordinator::slot, cancelForwarder);
        metrics.watchCoordination(() -> coordinator.membership().members().size());
        // Only the leader fails over, and only when a majority of the live instances see the primary down.
        operations.guardPromotions(new PromotionGuard() {
            @Override
            public String holdWrites() throws Exception {
                return coordinator.holdWritesForPromotion();
            }

            @Override
            public void release() {
                coordinator.releaseWrites();
            }

            @Override
            public void reinstate(String primary) throws Exception {
                coordinator.reinstatePrimary(primary);
            }
        });
        operations.failOverOnlyWhen(primary -> coordinator.leadership().self()
                && coordinator.primaryDown(primary).down());
        operations.reinstateOnlyWhen(primary -> coordinator.leadership().self()
                && !coordinator.primaryDown(primary).down());
        coordinator.bind(new RecordKeeper(cluster, new RecordKeeper.ModeAccess() {
            @Override
            public String mode() {
                return operations.replicationMode().mode();
            }

            @Override
            public int acks() {
                return operations.replicationMode().acks();
            }

            @Override
            public void adopt(String mode, int acks) {
                operations.adoptReplicationMode(new ReplicationMode(mode, acks));
            }
        }, operations::nodesSeenDown, new RecordKeeper.NodeList() {
            @Override
            public void add(NodeConfig node) {
                if (cluster.current().nodes().size() >= ReplicaBalancer.MAX_NODES) {
                    log.warn("coordination: cannot add node {} from the cluster record: at most {} nodes over the "
                            + "proxy's lifetime; restart to take it", node.name(), ReplicaBalancer.MAX_NODES);
                    return;
                }
                monitor.addNode(cluster.addNode(node), node);
            }

            @Override
            public void drop(int index) {
                monitor.removeNode(index);
            }
        }));
        // Operators' calls reach the leader wherever they arrive; standalone, this instance always leads.
        ClusterOperations routed = new LeaderRoutedOperations(operations, coordinator::leadership,
                () -> coordinator.membership().selfId(), () -> front.config().admin().token());
        this.view = new LiveProxyView(() -> front.config(), cluster, node -> front.readPolicy().canRead(node), pools,
                clientRegistry, metrics, routed, coordinator);
        ClientTlsFiles tls = ClientTlsFiles.load(config.tls());
        this.front = front(config, tls, backendTls, new ConnectionLimits(config.limits()));
    }

    /** Builds what new connections get from {@code config}; throws ConfigException for bad users. */
    private Front front(ProxyConfig config, ClientTlsFiles tls, BackendTlsFiles backendTls, ConnectionLimits limits) {
        ReadPolicy readPolicy = new ReadPolicy(config.routing());
        SessionFactory sessions = new SessionFactory(config, cluster, monitor, pools,
                new CatalogSessionClassifiers(catalogs, ClassifierConfig.from(config.routing())),
                ReplicaBalancer.of(config.routing().balance()), readPolicy, gate, metrics, cancels, cancelSender)
                .primaryPosition(primaryPositions).replayPositions(replayPositions);
        ClientAdmission admission = new ClientAdmission(tls.admission(), config.maxClientConnections(),
                config.maxMessageBytes(), cancels, clientCount, metrics, config.limits().clientStartupTimeout());
        ClientLogin login = new ClientLogin(new UserDirectory(config.auth()), config.auth().method(),
                ClientLogin.consoleUsers(config), clientRegistry, metrics, new Served(sessions, view), limits);
        return new Front(config, readPolicy, admission, login, tls, backendTls, limits);
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
        ProxyConfig config = front.config();
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(workers)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.ALLOCATOR, RelayBuffers.ALLOCATOR)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        Front served = front;
                        clients.add(channel);
                        channel.pipeline().addLast("startup", new StartupPacketDecoder());
                        channel.pipeline().addLast("client-startup",
                                new ClientStartupHandler(served.admission(), served.login()));
                    }
                });
        if (config.listenReusePort()) {
            transport.reusePort(bootstrap);
        }
        transport.readFromSharedBuffers(bootstrap);
        serverChannel = bootstrap.bind(config.listen().host(), config.listen().port()).sync().channel();
        log.info("pgrelay listening on {} ({} transport, {} workers, pool mode {}{})", serverChannel.localAddress(),
                transport.name().toLowerCase(Locale.ROOT), loops.size(), config.poolMode().name().toLowerCase(Locale.ROOT),
                config.listenReusePort() ? ", port shared with SO_REUSEPORT" : "");
        return this;
    }

    /**
     * Joins the other pgrelay instances (with {@code coordination}; alone, it only records this instance)
     * once both listeners are bound, so the member record carries the ports really in use. Returns at
     * once: registration in etcd goes on, and is retried, in the background.
     */
    public void join(HostPort admin) {
        ProxyConfig config = front.config();
        HostPort address = new HostPort(config.listen().host(), address().getPort());
        HostPort advertised = new HostPort(AdvertisedHost.of(config.coordination().advertiseHost(),
                config.listen().host()), address.port());
        HostPort adminReachable = new HostPort(AdvertisedHost.reachable(config.coordination().advertiseHost(),
                admin.host()), admin.port());
        coordinator.start(new ProxyMember(ProxyMember.newId(), address.toString(), adminReachable.toString(),
                Version.CURRENT, Instant.now()).advertisedAt(advertised.toString()));
    }

    /**
     * Applies a new configuration file (off the event loops): the reloadable keys take effect
     * for new connections and sessions, the others keep their running value and are reported
     * as needing a restart. Everything is built and checked before anything changes, so a
     * file that fails (a bad verifier, an unreadable certificate, removing the primary) changes
     * nothing.
     *
     * @throws io.pgrelay.core.config.ConfigException when the new configuration cannot be applied
     */
    public synchronized ReloadReport reload(ProxyConfig next, String actor) {
        Front running = front;
        List<ConfigChanges.Change> changes = ConfigChanges.between(running.config(), next);
        ProxyConfig effective = ConfigChanges.effective(running.config(), next);
        ClientTlsFiles tls = running.tls().reloaded(effective.tls());
        BackendTlsFiles backendTls = running.backendTls().reloaded(effective.backend());
        NodeChanges nodes = NodeChanges.between(running.config().nodes(), effective.nodes());
        checkNodes(nodes);
        // The connection counts carry over: a reload must not let every user open its limit again.
        Front reloaded = front(effective, tls, backendTls, running.limits().withLimits(effective.limits()));
        applyNodes(nodes, actor);
        front = reloaded;
        return ReloadReport.of(changes, nodes, tls != running.tls(), backendTls != running.backendTls());
    }

    private void checkNodes(NodeChanges nodes) {
        Topology topology = cluster.current();
        for (NodeConfig node : nodes.removed()) {
            NodeStatus status = topology.node(node.name());
            if (status != null && status == topology.primary()) {
                throw new ConfigException("nodes: " + node.name() + " is the primary; switch over to another node "
                        + "before removing it or changing its address");
            }
        }
        if (topology.nodes().size() + nodes.added().size() > ReplicaBalancer.MAX_NODES) {
            throw new ConfigException("nodes: at most " + ReplicaBalancer.MAX_NODES
                    + " nodes over the proxy's lifetime (removed ones included); restart to add more");
        }
    }

    /** Removals first: a node that changed its address is removed, then added under the same name. */
    private void applyNodes(NodeChanges nodes, String actor) {
        for (NodeConfig node : nodes.removed()) {
            operations.removeNode(node.name(), actor);
        }
        for (NodeConfig node : nodes.added()) {
            operations.addNode(node, actor);
        }
        for (NodeConfig node : nodes.reweighted()) {
            cluster.update(topology -> {
                NodeStatus status = topology.node(node.name());
                return status == null ? topology : topology.with(status.withConfig(node));
            });
        }
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

    /** The configuration in force: the file as last loaded, restart-only keys as they were at start. */
    public ProxyConfig config() {
        return front.config();
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

    /** Closes the client listener: no new connections; with SO_REUSEPORT a second pgrelay on the port takes them. */
    public void stopAccepting() {
        if (serverChannel != null && serverChannel.isOpen()) {
            serverChannel.close().awaitUninterruptibly();
            log.info("pgrelay stopped accepting clients on {}", serverChannel.localAddress());
        }
    }

    /**
     * Graceful stop: no new clients; every session ends with 57P01 as soon as it is between
     * transactions (idle ones at once); those still busy after {@code shutdown-timeout} end with
     * 57P01 then; backends go back to their pools and are closed with them.
     */
    @Override
    public void close() {
        stopAccepting();
        // Leave the other instances at once: a draining instance no longer counts as a live member.
        coordinator.close();
        new ClientShutdown(clients).run(front.config().shutdownTimeout());
        // The statements cancelled at the timeout: their requests must reach the servers before the loops stop.
        if (!cancelSender.awaitDelivered(Duration.ofSeconds(5))) {
            log.warn("shutdown: cancel requests still under way after 5 s");
        }
        cancelForwarder.close();
        operations.close();
        pools.close();
        monitor.close();
        primaryPositions.close();
        catalogs.close();
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        log.info("pgrelay stopped");
    }
}
