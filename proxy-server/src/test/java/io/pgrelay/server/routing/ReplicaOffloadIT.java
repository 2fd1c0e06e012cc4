package io.pgrelay.server.routing;

import io.pgrelay.server.testing.TestProxy;
import io.pgrelay.testkit.LocalCluster;
import io.pgrelay.testkit.LocalNode;
import io.pgrelay.testkit.Pgbench;
import io.pgrelay.testkit.Processes;
import io.pgrelay.testkit.TestCluster;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code pgbench -S} through pgrelay is served by both replicas and not by the primary. */
class ReplicaOffloadIT {
    private static final String SCANS = "SELECT coalesce(sum(idx_scan), 0) FROM pg_stat_user_tables "
            + "WHERE relname = 'pgbench_accounts'";

    @Test
    void selectOnlyLoadIsServedByTheReplicas() throws Exception {
        LocalCluster cluster = TestCluster.get();
        Map<String, Long> before = new LinkedHashMap<>();
        Map<String, Long> after = new LinkedHashMap<>();
        try (TestProxy proxy = TestProxy.start("")) {
            Processes.Result init = Pgbench.run(proxy.host(), proxy.port(), "-i", "-s", "1", "-q");
            assertThat(init.exitCode()).as(init.output()).isZero();
            cluster.waitForReplication(Duration.ofSeconds(30));
            // Let catalog loading and any replay finish before measuring.
            Thread.sleep(1500);
            for (LocalNode node : cluster.nodes()) {
                before.put(node.name(), scans(node));
            }
            Processes.Result run = Pgbench.run(proxy.host(), proxy.port(), "-S", "-c", "8", "-j", "2", "-T", "10", "-M", "simple");
            assertThat(run.exitCode()).as(run.output()).isZero();
            assertThat(Pgbench.failed(run)).as(run.output()).isZero();
            System.out.println(run.stdout());
        }
        // Closing the proxy closed its backends, which flushes their statistics.
        Thread.sleep(1500);
        for (LocalNode node : cluster.nodes()) {
            after.put(node.name(), scans(node));
        }
        LocalNode primary = cluster.primary();
        System.out.println("index scans on pgbench_accounts before " + before + " after " + after);
        assertThat(after.get(primary.name()) - before.get(primary.name())).as("primary served no reads")
                .isLessThan(50);
        for (LocalNode replica : cluster.replicas()) {
            assertThat(after.get(replica.name()) - before.get(replica.name())).as(replica.name() + " served reads")
                    .isGreaterThan(1000);
        }
    }

    private static long scans(LocalNode node) throws SQLException {
        try (Connection c = node.connect("app", "postgres", "postgres"); Statement s = c.createStatement()) {
            s.execute("SELECT pg_stat_clear_snapshot()");
            try (ResultSet rs = s.executeQuery(SCANS)) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }
}
