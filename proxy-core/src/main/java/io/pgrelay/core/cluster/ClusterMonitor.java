package io.pgrelay.core.cluster;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.pgrelay.core.config.ProxyConfig.MonitorConfig;
import io.pgrelay.core.config.ProxyConfig.NodeConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Probes every node on its own schedule (never on an event loop) through a one-connection
 * HikariCP pool, and folds the results into the {@link ClusterState}: role, timeline, WAL
 * positions, lag, and UP/DOWN after the configured number of consecutive failures.
 */
public final class ClusterMonitor implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ClusterMonitor.class);

    static final String PROBE_SQL = """
            SELECT pg_is_in_recovery(),
                   CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END,
                   pg_last_wal_receive_lsn()::text,
                   pg_last_wal_replay_lsn()::text,
                   pg_last_xact_replay_timestamp(),
                   clock_timestamp(),
                   CASE WHEN pg_is_in_recovery()
                        THEN (SELECT received_tli FROM pg_stat_wal_receiver)
                        ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END
            """;

    private final ClusterState state;
    private final MonitorConfig config;
    private final List<HikariDataSource> pools = new ArrayList<>();
    private final ScheduledExecutorService scheduler;
    private final List<ScheduledFuture<?>> tasks = new ArrayList<>();

    public ClusterMonitor(ClusterState state, List<NodeConfig> nodes, MonitorConfig config) {
        this.state = state;
        this.config = config;
        AtomicInteger threads = new AtomicInteger();
        this.scheduler = Executors.newScheduledThreadPool(Math.max(1, nodes.size()), r -> {
            Thread thread = new Thread(r, "pgrelay-monitor-" + threads.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        for (NodeConfig node : nodes) {
            pools.add(newPool(node));
        }
    }

    private HikariDataSource newPool(NodeConfig node) {
        HikariConfig hikari = new HikariConfig();
        hikari.setPoolName("monitor-" + node.name());
        hikari.setJdbcUrl("jdbc:postgresql://" + node.host() + ":" + node.port() + "/" + config.database());
        hikari.setUsername(config.user());
        hikari.setPassword(config.password());
        hikari.setMaximumPoolSize(1);
        hikari.setMinimumIdle(0);
        hikari.setInitializationFailTimeout(-1);
        hikari.setConnectionTimeout(Math.max(250, config.connectTimeout().toMillis()));
        hikari.setValidationTimeout(Math.max(250, config.queryTimeout().toMillis()));
        hikari.setKeepaliveTime(0);
        hikari.setAutoCommit(true);
        int socketTimeoutSeconds = (int) Math.max(1, (config.queryTimeout().toMillis() + 999) / 1000);
        hikari.addDataSourceProperty("connectTimeout", Math.max(1, (int) config.connectTimeout().toSeconds()));
        hikari.addDataSourceProperty("loginTimeout", Math.max(1, (int) config.connectTimeout().toSeconds()));
        hikari.addDataSourceProperty("socketTimeout", socketTimeoutSeconds);
        hikari.addDataSourceProperty("ApplicationName", "pgrelay-monitor");
        hikari.addDataSourceProperty("tcpKeepAlive", true);
        hikari.addDataSourceProperty("preferQueryMode", "simple");
        return new HikariDataSource(hikari);
    }

    /** Probes every node once, waiting at most about a connect plus query timeout; then starts the schedule. */
    public void start() {
        List<NodeStatus> nodes = state.current().nodes();
        CountDownLatch first = new CountDownLatch(nodes.size());
        for (NodeStatus node : nodes) {
            scheduler.execute(() -> {
                try {
                    probe(node.index());
                } finally {
                    first.countDown();
                }
            });
        }
        try {
            first.await(config.connectTimeout().toMillis() + config.queryTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        long intervalMillis = config.interval().toMillis();
        for (NodeStatus node : nodes) {
            int index = node.index();
            tasks.add(scheduler.scheduleWithFixedDelay(() -> probe(index), intervalMillis, intervalMillis,
                    TimeUnit.MILLISECONDS));
        }
        log.info("monitor started: {}", state.current());
    }

    /** Probes one node now and applies the result; safe to call from any non-event-loop thread. */
    public void probe(int index) {
        NodeConfig node = state.current().node(index).config();
        try (Connection connection = pools.get(index).getConnection();
             Statement statement = connection.createStatement()) {
            statement.setQueryTimeout((int) Math.max(1, config.queryTimeout().toSeconds()));
            try (ResultSet rs = statement.executeQuery(PROBE_SQL)) {
                rs.next();
                boolean inRecovery = rs.getBoolean(1);
                long currentLsn = Lsn.parse(rs.getString(2));
                long receiveLsn = Lsn.parse(rs.getString(3));
                long replayLsn = Lsn.parse(rs.getString(4));
                Timestamp replayTimestamp = rs.getTimestamp(5);
                Timestamp now = rs.getTimestamp(6);
                int timeline = rs.getInt(7);
                long lagMillis = inRecovery ? replayDelayMillis(receiveLsn, replayLsn, replayTimestamp, now) : 0;
                applySuccess(index, inRecovery ? Role.REPLICA : Role.PRIMARY, timeline, currentLsn, receiveLsn,
                        replayLsn, lagMillis);
            }
        } catch (SQLException | RuntimeException e) {
            applyFailure(index, node, e);
        }
    }

    /** Probes one node soon on the monitor's threads, e.g. when a session saw its role change. */
    public void probeSoon(int index) {
        if (!scheduler.isShutdown()) {
            scheduler.execute(() -> probe(index));
        }
    }

    /** 0 when all received WAL is replayed: an idle primary must not look like lag. */
    static long replayDelayMillis(long receiveLsn, long replayLsn, Timestamp replayTimestamp, Timestamp now) {
        if (Lsn.compare(replayLsn, receiveLsn) >= 0 || replayTimestamp == null || now == null) {
            return 0;
        }
        return Math.max(0, now.getTime() - replayTimestamp.getTime());
    }

    private void applySuccess(int index, Role role, int timeline, long currentLsn, long receiveLsn, long replayLsn,
                              long lagMillis) {
        long observedAt = System.currentTimeMillis();
        state.update(topology -> {
            NodeStatus old = topology.node(index);
            Health health = old.health() == Health.FENCED || old.health() == Health.DRAINED ? old.health() : Health.UP;
            NodeStatus updated = new NodeStatus(index, old.config(), role, health, timeline, currentLsn, receiveLsn,
                    replayLsn, old.lagBytes(), lagMillis, 0, observedAt, null);
            if (old.role() != role || old.health() != health) {
                log.info("node {} is {} and {}", old.name(), role.label(), health.label());
            }
            return withLagBytes(topology.with(updated));
        });
    }

    private void applyFailure(int index, NodeConfig node, Exception e) {
        state.update(topology -> {
            NodeStatus old = topology.node(index);
            int failures = old.consecutiveFailures() + 1;
            boolean down = failures >= config.failureThreshold() || old.health() == Health.DOWN;
            Health health = old.health() == Health.FENCED || old.health() == Health.DRAINED ? old.health()
                    : down ? Health.DOWN : old.health();
            if (down && old.health() == Health.UP) {
                log.warn("node {} ({}:{}) is down after {} failed probes: {}", node.name(), node.host(), node.port(),
                        failures, e.getMessage());
            }
            return topology.with(new NodeStatus(index, old.config(), old.role(), health, old.timeline(),
                    old.currentLsn(), old.receiveLsn(), old.replayLsn(), old.lagBytes(), old.lagMillis(), failures,
                    old.observedAtMillis(), String.valueOf(e.getMessage())));
        });
    }

    /** Recomputes every replica's byte lag against the primary's latest position. */
    private static Topology withLagBytes(Topology topology) {
        NodeStatus primary = topology.primary();
        Topology result = topology;
        for (NodeStatus node : topology.nodes()) {
            long lagBytes;
            if (node.role() == Role.PRIMARY) {
                lagBytes = 0;
            } else if (primary == null || node.replayLsn() == 0) {
                lagBytes = -1;
            } else {
                lagBytes = Math.max(0, primary.currentLsn() - node.replayLsn());
            }
            if (lagBytes != node.lagBytes()) {
                result = result.with(node.withLag(lagBytes, node.lagMillis()));
            }
        }
        return result;
    }

    @Override
    public void close() {
        tasks.forEach(task -> task.cancel(false));
        scheduler.shutdownNow();
        pools.forEach(HikariDataSource::close);
    }
}
