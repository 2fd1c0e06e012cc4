package io.pgrelay.server.relay;

import io.pgrelay.server.testing.Processes;
import io.pgrelay.server.testing.TestProxy;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** pgbench through pgrelay in each query mode, with zero failed transactions. */
class PgbenchIT {
    private static final Pattern PROCESSED = Pattern.compile("number of transactions actually processed: (\\d+)");
    private static final Pattern FAILED = Pattern.compile("number of failed transactions: (\\d+)");

    private static TestProxy proxy;

    @BeforeAll
    static void initialize() {
        proxy = TestProxy.shared();
        Processes.Result init = pgbench("-i", "-s", "1", "-q");
        assertThat(init.exitCode()).as(init.output()).isZero();
    }

    static Processes.Result pgbench(String... args) {
        List<String> command = new java.util.ArrayList<>();
        command.add(Processes.pgProgram("pgbench"));
        command.addAll(List.of("-h", proxy.host(), "-p", String.valueOf(proxy.port()), "-U", "app"));
        command.addAll(List.of(args));
        command.add("app");
        return Processes.run(command, Map.of("PGPASSWORD", "app", "PGSSLMODE", "disable"), null, Duration.ofMinutes(2));
    }

    @ParameterizedTest
    @ValueSource(strings = {"simple", "extended", "prepared"})
    void tpcbLikeWithoutFailures(String mode) {
        Processes.Result run = pgbench("-c", "8", "-j", "2", "-T", "8", "-M", mode);
        assertThat(run.exitCode()).as(run.output()).isZero();
        Matcher processed = PROCESSED.matcher(run.stdout());
        assertThat(processed.find()).as(run.output()).isTrue();
        assertThat(Long.parseLong(processed.group(1))).isGreaterThan(100);
        Matcher failed = FAILED.matcher(run.stdout());
        assertThat(failed.find()).as(run.output()).isTrue();
        assertThat(failed.group(1)).isEqualTo("0");
        System.out.printf("pgbench -M %s through pgrelay: %s transactions%n", mode, processed.group(1));
    }
}
