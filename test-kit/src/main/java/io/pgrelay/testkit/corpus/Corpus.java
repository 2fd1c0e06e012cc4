package io.pgrelay.testkit.corpus;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgrelay.testkit.LocalCluster;
import io.pgrelay.testkit.LocalNode;
import io.pgrelay.testkit.Processes;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The labelled SQL corpus of the read/write classifier, carried on the classpath
 * ({@code io/pgrelay/testkit/corpus/}: {@code README.md}, {@code labels.jsonl}, {@code schema.sql}),
 * and its scoring exactly as that README says: "must go to the primary" = label write, or
 * server_local, or primary_assigned_xid; "offloadable read" = label read and none of
 * session_state / server_local / primary_assigned_xid. The classifier is the caller's: test-kit
 * knows no pgrelay code, so each statement's route comes back through a function.
 */
public final class Corpus {
    private static final String RESOURCES = "/io/pgrelay/testkit/corpus/";
    private static final ObjectMapper JSON = new ObjectMapper();

    private Corpus() {
    }

    /** One labelled statement; {@code setup} (may be null) runs first on the same connection. */
    public record Statement(String id, String sql, String setup, boolean mustPrimary, boolean offloadable) {
    }

    /**
     * Where a classifier sends a statement: to a replica or not, and how it says so (for reports).
     * {@code perServer}: a read a standby could run, kept on the primary by design because its
     * answer is per server (statistics, recovery state, ...); it does not count as a missed offload.
     */
    public record Routed(boolean toReplica, boolean perServer, String description) {
        public Routed(boolean toReplica, String description) {
            this(toReplica, false, description);
        }
    }

    /** Totals, and one line per unsafe misroute and per offloadable read kept on the primary. */
    public record Score(int must, int unsafe, int offloadable, int offloaded, int perServer, List<String> unsafeItems,
                        List<String> missedReads) {
        public double offloadRate() {
            return offloadable == 0 ? 1.0 : (double) offloaded / offloadable;
        }

        public String summary(String name) {
            return String.format("%s: %d must-primary statements, %d unsafe misroutes; %d of %d offloadable reads"
                    + " routed to a replica (%.2f%%); %d per-server reads kept on the primary", name, must, unsafe,
                    offloaded, offloadable, 100 * offloadRate(), perServer);
        }
    }

    /** The published statements (labels.jsonl). */
    public static List<Statement> labels() {
        return parse(resource("labels.jsonl"));
    }

    /** The schema the statements run against (schema.sql, a psql script). */
    public static String schemaSql() {
        return resource("schema.sql");
    }

    /** Statements labelled in the same format in a file of one's own. */
    public static List<Statement> read(Path file) throws IOException {
        return parse(Files.readString(file, StandardCharsets.UTF_8));
    }

    /** JSON lines in the corpus format; blank lines are skipped. */
    public static List<Statement> parse(String jsonLines) {
        List<Statement> items = new ArrayList<>();
        for (String line : jsonLines.lines().toList()) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode n;
            try {
                n = JSON.readTree(line);
            } catch (IOException e) {
                throw new IllegalArgumentException("not a JSON line: " + line, e);
            }
            boolean write = "write".equals(n.path("label").asText());
            boolean read = "read".equals(n.path("label").asText());
            boolean serverLocal = n.path("server_local").asBoolean();
            boolean xid = n.path("primary_assigned_xid").asBoolean();
            boolean must = write || serverLocal || xid;
            boolean offloadable = read && !n.path("session_state").asBoolean() && !serverLocal && !xid;
            String setup = n.hasNonNull("setup") ? n.get("setup").asText() : null;
            items.add(new Statement(n.path("id").asText(), n.path("sql").asText(), setup, must, offloadable));
        }
        return items;
    }

    /** Scores {@code router}'s routes of {@code items} as the README says. */
    public static Score score(List<Statement> items, Function<Statement, Routed> router) {
        int must = 0;
        int unsafe = 0;
        int offloadable = 0;
        int offloaded = 0;
        int perServer = 0;
        List<String> unsafeItems = new ArrayList<>();
        List<String> missed = new ArrayList<>();
        for (Statement item : items) {
            Routed routed = router.apply(item);
            String line = item.id() + " -> " + routed.description() + ": " + abbreviate(item.sql());
            if (item.mustPrimary()) {
                must++;
                if (routed.toReplica()) {
                    unsafe++;
                    unsafeItems.add(line);
                }
            }
            if (item.offloadable() && !routed.toReplica() && routed.perServer()) {
                perServer++;
            } else if (item.offloadable()) {
                offloadable++;
                if (routed.toReplica()) {
                    offloaded++;
                } else {
                    missed.add(line);
                }
            }
        }
        return new Score(must, unsafe, offloadable, offloaded, perServer, unsafeItems, missed);
    }

    /**
     * (Re)creates database {@code name} on {@code cluster}'s primary with schema.sql loaded (through
     * psql, which the script needs for {@code \set}), and waits until the replicas replayed it.
     */
    public static void createDatabase(LocalCluster cluster, String name) {
        cluster.execute("postgres", "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
        cluster.execute("postgres", "CREATE DATABASE " + name);
        LocalNode primary = cluster.primary();
        Processes.Result r = Processes.run(List.of(Processes.pgProgram("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                "-h", primary.host(), "-p", Integer.toString(primary.port()), "-U", LocalCluster.SUPERUSER,
                "-d", name, "-f", "-"), Map.of("PGPASSWORD", cluster.superuser().password()), schemaSql(),
                Duration.ofMinutes(2));
        if (r.exitCode() != 0) {
            throw new AssertionError("loading schema.sql into " + name + " failed:\n" + r.output());
        }
        cluster.waitForReplication(Duration.ofSeconds(60));
    }

    static String abbreviate(String sql) {
        String s = sql.replace('\n', ' ');
        return s.length() > 160 ? s.substring(0, 160) + "..." : s;
    }

    private static String resource(String name) {
        try (InputStream in = Corpus.class.getResourceAsStream(RESOURCES + name)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCES + name + " is not on the classpath (test-kit's resources)");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCES + name, e);
        }
    }
}
