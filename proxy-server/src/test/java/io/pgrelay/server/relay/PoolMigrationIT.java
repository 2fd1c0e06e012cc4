package io.pgrelay.server.relay;

import io.netty.channel.uring.IoUring;
import io.pgrelay.core.ops.ProxyView.PoolStats;
import io.pgrelay.server.testing.TestProxy;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * With the pool full, a backend freed on one event loop serves a client waiting on another:
 * with epoll the connection moves between loops instead of being closed and reopened; io_uring
 * cannot move a channel, so the connection is closed and its slot opens one on the waiter's loop.
 */
class PoolMigrationIT {
    private static final String CONFIG = """
            workers: 2
            pool: { max-size: 1, acquire-timeout: 20s }
            routing: { reads-to-replicas: false }
            """;

    private static int pid(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT pid FROM pg_stat_activity WHERE pid = pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static TestProxy startWith(String transport) {
        System.setProperty("pgrelay.transport", transport);
        try {
            return TestProxy.start(CONFIG);
        } finally {
            System.clearProperty("pgrelay.transport");
        }
    }

    @Test
    void withEpollTheWaitingClientGetsTheFreedBackendItself() throws Exception {
        try (TestProxy proxy = startWith("epoll")) {
            for (int round = 0; round < 6; round++) {
                int[] pids = handOver(proxy, round);
                assertThat(pids[1]).as("round " + round + ": the same server connection").isEqualTo(pids[0]);
            }
        }
    }

    @Test
    void withIoUringTheWaitingClientIsServedWithinThePoolLimit() throws Exception {
        assertThat(IoUring.isAvailable()).as("io_uring on this kernel: " + IoUring.unavailabilityCause()).isTrue();
        try (TestProxy proxy = startWith("io_uring")) {
            for (int round = 0; round < 6; round++) {
                handOver(proxy, round);
                assertThat(pool(proxy).total()).as("round " + round + ": never more than max-size").isLessThanOrEqualTo(1);
            }
        }
    }

    /** One client holds the only backend, a second waits for it; returns both clients' backend pids. */
    private static int[] handOver(TestProxy proxy, int round) throws Exception {
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
        assertThat(second).as("round " + round + ": the second client waits while the only backend is taken").isNotDone();
        first.close();
        return new int[] {firstPid, second.get(10, TimeUnit.SECONDS)};
    }

    private static PoolStats pool(TestProxy proxy) {
        return proxy.relay().proxy().view().pools().stream()
                .filter(p -> p.user().equals("app") && p.database().equals("app"))
                .findFirst().orElseThrow();
    }
}
