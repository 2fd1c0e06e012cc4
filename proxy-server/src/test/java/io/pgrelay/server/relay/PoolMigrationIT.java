package io.pgrelay.server.relay;

import io.pgrelay.server.testing.TestProxy;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * With the pool full, a backend freed on one event loop is handed to a client waiting on
 * another: the connection moves between loops instead of being closed and reopened.
 */
class PoolMigrationIT {
    private static TestProxy proxy;

    @BeforeAll
    static void start() {
        proxy = TestProxy.start("""
                workers: 2
                pool: { max-size: 1, acquire-timeout: 20s }
                routing: { reads-to-replicas: false }
                """);
    }

    @AfterAll
    static void stop() {
        proxy.close();
    }

    private static int pid(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT pid FROM pg_stat_activity WHERE pid = pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void waitingClientGetsTheFreedBackend() throws Exception {
        for (int round = 0; round < 6; round++) {
            Connection first = proxy.connect();
            int firstPid = pid(first);
            CompletableFuture<Integer> second = CompletableFuture.supplyAsync(() -> {
                try (Connection c = proxy.connect()) {
                    return pid(c);
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            Thread.sleep(300);
            assertThat(second).as("second client waits while the only backend is taken").isNotDone();
            first.close();
            assertThat(second.get(10, TimeUnit.SECONDS)).as("round " + round).isEqualTo(firstPid);
        }
    }
}
