package io.pgrelay.server.failover;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgrelay.server.testing.AdminClient;
import io.pgrelay.server.testing.TestProxy;
import io.pgrelay.testkit.LocalCluster;
import io.pgrelay.testkit.LocalNode;
import io.pgrelay.testkit.Pgbench;
import io.pgrelay.testkit.Processes;
import io.pgrelay.testkit.TestCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Planned switchover ({@code POST /api/v1/switchover}) in the middle of {@code pgbench -c 8
 * -T 30} through the proxy: zero failed transactions, no client reconnect (pgbench would
 * abort), writes paused at most 2 s, and the remaining replica streams from the new primary.
 * Uses a cluster of its own.
 */
class SwitchoverIT {
    private static LocalCluster cluster;
    private static TestProxy proxy;
    private static AdminClient admin;

    @BeforeAll
    static void start() {
        cluster = TestCluster.startDedicated();
        proxy = TestProxy.start(cluster, "");
        admin = new AdminClient(proxy);
        Processes.Result init = Pgbench.run(proxy.host(), proxy.port(), "-i", "-s", "1", "-q");
        assertThat(init.exitCode()).as(init.output()).isZero();
        // pgbench's first reads (the scale, the tables) may go to a replica.
        cluster.waitForReplication(Duration.ofSeconds(30));
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void switchoverDuringPgbenchLosesNoTransaction() throws Exception {
        assertThat(admin.primary()).isEqualTo("pg1");
        CompletableFuture<Processes.Result> bench = CompletableFuture.supplyAsync(
                () -> Pgbench.run(proxy.host(), proxy.port(), "-c", "8", "-j", "2", "-T", "30"));
        Thread.sleep(8000);
        assertThat(bench).as("pgbench runs").isNotDone();

        AdminClient.Reply reply = admin.call("POST", "/api/v1/switchover", "{}");
        assertThat(reply.status()).as(reply.body().toPrettyString()).isEqualTo(200);
        long pause = -1;
        for (JsonNode step : reply.body().get("steps")) {
            if (step.get("name").asText().equals("writes paused")) {
                pause = step.get("millis").asLong();
            }
        }
        String newPrimary = reply.body().get("cluster").get("primary").asText();
        System.out.printf("switchover pg1 -> %s during pgbench: writes paused %d ms, switchover took %d ms%n",
                newPrimary, pause, reply.body().get("durationMillis").asLong());
        assertThat(newPrimary).isIn("pg2", "pg3");
        assertThat(pause).as("write pause (ms)").isBetween(0L, 2000L);
        assertThat(admin.state("pg1")).isEqualTo("fenced");

        Processes.Result result = bench.get();
        System.out.printf("pgbench across the switchover: exit %d, %d transactions, %d failed%n",
                result.exitCode(), Pgbench.processed(result), Pgbench.failed(result));
        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(Pgbench.failed(result)).as(result.output()).isZero();
        assertThat(Pgbench.processed(result)).isGreaterThan(100);

        LocalNode promoted = cluster.node(newPrimary);
        LocalNode other = cluster.node(newPrimary.equals("pg2") ? "pg3" : "pg2");
        FailoverIT.waitUntil(java.time.Duration.ofSeconds(20), () -> other.isStreamingFrom(promoted),
                other.name() + " streams from " + newPrimary + " (pg_stat_replication on it)");
    }
}
