package io.pgrelay.testkit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * pgbench (from the {@link TestCluster}'s PostgreSQL bin dir) as {@code app/app} against database
 * {@code app} at a given address: a node, or a proxy in front of the cluster. TLS off.
 */
public final class Pgbench {
    private static final Pattern PROCESSED = Pattern.compile("number of transactions actually processed: (\\d+)");
    private static final Pattern FAILED = Pattern.compile("number of failed transactions: (\\d+)");
    private static final Duration TIMEOUT = Duration.ofMinutes(3);

    private Pgbench() {
    }

    /** Runs {@code pgbench -h host -p port -U app <args> app}; fails the test after 3 minutes. */
    public static Processes.Result run(String host, int port, String... args) {
        List<String> command = new ArrayList<>();
        command.add(Processes.pgProgram("pgbench"));
        command.addAll(List.of("-h", host, "-p", String.valueOf(port), "-U", "app"));
        command.addAll(List.of(args));
        command.add("app");
        return Processes.run(command, Map.of("PGPASSWORD", "app", "PGSSLMODE", "disable"), null, TIMEOUT);
    }

    /** "number of transactions actually processed", or -1 when pgbench printed no such line. */
    public static long processed(Processes.Result result) {
        Matcher m = PROCESSED.matcher(result.stdout());
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    /** "number of failed transactions", or -1 when pgbench printed no such line (e.g. it aborted). */
    public static long failed(Processes.Result result) {
        Matcher m = FAILED.matcher(result.stdout());
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }
}
