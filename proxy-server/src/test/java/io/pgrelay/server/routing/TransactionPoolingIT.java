package io.pgrelay.server.routing;

import io.pgrelay.core.ops.ProxyView.PoolStats;
import io.pgrelay.server.testing.TestProxy;
import io.pgrelay.testkit.Pgbench;
import io.pgrelay.testkit.Processes;
import io.pgrelay.testkit.TestCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code pool-mode: transaction}: many clients share few backend connections; session
 * state (settings, prepared statements) is replayed wherever a transaction lands.
 */
class TransactionPoolingIT {
    private static TestProxy proxy;

    @BeforeAll
    static void start() throws SQLException {
        proxy = TestProxy.start("pool-mode: transaction\npool: { max-size: 4, acquire-timeout: 30s }\n");
        try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS pooled_counter (id int primary key, n bigint)");
            s.execute("INSERT INTO pooled_counter VALUES (1, 0) ON CONFLICT (id) DO UPDATE SET n = 0");
        }
        TestCluster.get().waitForReplication(Duration.ofSeconds(10));
    }

    @AfterAll
    static void stop() {
        proxy.close();
    }

    private static List<PoolStats> appPools() {
        return proxy.relay().proxy().view().pools().stream()
                .filter(p -> p.user().equals("app")).toList();
    }

    @Test
    void manyClientsShareFewBackendsWithTheirOwnSettingsAndStatements() throws Exception {
        int clients = 16;
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                int client = i;
                results.add(pool.submit(() -> {
                    try (Connection c = proxy.connect()) {
                        try (Statement s = c.createStatement()) {
                            s.execute("SET application_name = 'client-" + client + "'");
                        }
                        int done = 0;
                        try (PreparedStatement read = c.prepareStatement(
                                "SELECT current_setting('application_name'), ?::int");
                             PreparedStatement write = c.prepareStatement(
                                     "UPDATE pooled_counter SET n = n + 1 WHERE id = 1")) {
                            for (int round = 0; round < 40; round++) {
                                read.setInt(1, round);
                                try (ResultSet rs = read.executeQuery()) {
                                    rs.next();
                                    assertThat(rs.getString(1)).isEqualTo("client-" + client);
                                    assertThat(rs.getInt(2)).isEqualTo(round);
                                }
                                c.setAutoCommit(false);
                                write.executeUpdate();
                                c.commit();
                                c.setAutoCommit(true);
                                done++;
                            }
                        }
                        return done;
                    }
                }));
            }
            int total = 0;
            for (Future<Integer> result : results) {
                total += result.get();
            }
            assertThat(total).isEqualTo(clients * 40);
        } finally {
            pool.shutdownNow();
        }
        try (Connection c = proxy.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("/* pgrelay:primary */ SELECT n FROM pooled_counter WHERE id = 1")) {
            rs.next();
            assertThat(rs.getLong(1)).isEqualTo(16 * 40);
        }
        for (PoolStats pool1 : appPools()) {
            assertThat(pool1.total()).as("backends in " + pool1).isLessThanOrEqualTo(4);
        }
    }

    @Test
    void pgbenchPreparedTpcbWithoutFailures() {
        Processes.Result init = pgbench("-i", "-s", "1", "-q");
        assertThat(init.exitCode()).as(init.output()).isZero();
        // pgbench's first reads (the scale, the tables) may go to a replica.
        TestCluster.get().waitForReplication(Duration.ofSeconds(30));
        // One pgbench thread per client: pgbench prepares statements synchronously, so a thread blocked
        // waiting for a pooled backend would otherwise stall its other clients holding the rest.
        Processes.Result run = pgbench("-c", "16", "-j", "16", "-T", "8", "-M", "prepared");
        assertThat(run.exitCode()).as(run.output()).isZero();
        assertThat(Pgbench.failed(run)).as(run.output()).isZero();
        assertThat(Pgbench.processed(run)).as(run.output()).isGreaterThan(100);
        System.out.println("pgbench -M prepared, transaction pooling: " + Pgbench.processed(run) + " transactions");
    }

    static Processes.Result pgbench(String... args) {
        return Pgbench.run(proxy.host(), proxy.port(), args);
    }
}
