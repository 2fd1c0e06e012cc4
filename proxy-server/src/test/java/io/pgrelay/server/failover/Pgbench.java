package io.pgrelay.server.failover;

import io.pgrelay.server.testing.Processes;
import io.pgrelay.server.testing.TestProxy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** pgbench through a test proxy (the PostgreSQL bin dir's pgbench, as {@code app}). */
final class Pgbench {
    private static final Pattern PROCESSED = Pattern.compile("number of transactions actually processed: (\\d+)");
    private static final Pattern FAILED = Pattern.compile("number of failed transactions: (\\d+)");

    private Pgbench() {
    }

    static Processes.Result run(TestProxy proxy, String... args) {
        List<String> command = new ArrayList<>();
        command.add(Processes.pgProgram("pgbench"));
        command.addAll(List.of("-h", proxy.host(), "-p", String.valueOf(proxy.port()), "-U", "app"));
        command.addAll(List.of(args));
        command.add("app");
        return Processes.run(command, Map.of("PGPASSWORD", "app", "PGSSLMODE", "disable"), null,
                Duration.ofMinutes(3));
    }

    static long processed(Processes.Result result) {
        Matcher m = PROCESSED.matcher(result.stdout());
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    /** -1 when pgbench printed no such line (e.g. it aborted). */
    static long failed(Processes.Result result) {
        Matcher m = FAILED.matcher(result.stdout());
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }
}
