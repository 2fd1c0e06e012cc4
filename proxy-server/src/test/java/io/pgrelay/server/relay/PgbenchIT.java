package io.pgrelay.server.relay;

import io.pgrelay.server.testing.TestProxy;
import io.pgrelay.testkit.Pgbench;
import io.pgrelay.testkit.Processes;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** pgbench through pgrelay in each query mode, with zero failed transactions. */
class PgbenchIT {
    private static TestProxy proxy;

    @BeforeAll
    static void initialize() {
        proxy = TestProxy.shared();
        Processes.Result init = pgbench("-i", "-s", "1", "-q");
        assertThat(init.exitCode()).as(init.output()).isZero();
        // pgbench's first reads (the scale, the tables) may go to a replica.
        proxy.cluster().waitForReplication(Duration.ofSeconds(30));
    }

    static Processes.Result pgbench(String... args) {
        return Pgbench.run(proxy.host(), proxy.port(), args);
    }

    @ParameterizedTest
    @ValueSource(strings = {"simple", "extended", "prepared"})
    void tpcbLikeWithoutFailures(String mode) {
        Processes.Result run = pgbench("-c", "8", "-j", "2", "-T", "8", "-M", mode);
        assertThat(run.exitCode()).as(run.output()).isZero();
        assertThat(Pgbench.processed(run)).as(run.output()).isGreaterThan(100);
        assertThat(Pgbench.failed(run)).as(run.output()).isZero();
        System.out.printf("pgbench -M %s through pgrelay: %d transactions%n", mode, Pgbench.processed(run));
    }
}
