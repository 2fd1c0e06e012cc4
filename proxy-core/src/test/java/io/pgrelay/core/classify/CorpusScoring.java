package io.pgrelay.core.classify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Scoring of labelled statements exactly as ../shared/corpus/README.md says: "must go to the
 * primary" = label write, or server_local, or primary_assigned_xid; "offloadable read" = label read
 * and none of session_state / server_local / primary_assigned_xid. A statement's {@code setup} is
 * fed to a {@link SessionSimulator} first (so EXECUTE of a prepared read is resolved as the
 * session would). Reads whose answer is per server (statistics, recovery state, ...) go to the
 * primary by design ({@link Trait#SERVER_LOCAL_READ}): they count apart, not as missed offloads.
 */
public final class CorpusScoring {
    /** One labelled statement. */
    public record Item(String id, String sql, String setup, boolean mustPrimary, boolean offloadable, JsonNode raw) {
    }

    /** Per item outcome and totals. */
    public record Score(int must, int unsafe, int offloadable, int offloaded, int serverLocal,
                        List<String> unsafeItems, List<String> missedReads) {
        public double offloadRate() {
            return offloadable == 0 ? 1.0 : (double) offloaded / offloadable;
        }

        public String summary(String name) {
            return String.format("%s: %d must-primary statements, %d unsafe misroutes; %d of %d offloadable reads"
                    + " routed to a replica (%.2f%%); %d per-server reads kept on the primary", name, must, unsafe,
                    offloaded, offloadable, 100 * offloadRate(), serverLocal);
        }
    }

    private CorpusScoring() {
    }

    public static List<Item> read(Path file) throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        List<Item> items = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode n = mapper.readTree(line);
            boolean write = "write".equals(n.path("label").asText());
            boolean must = write || n.path("server_local").asBoolean() || n.path("primary_assigned_xid").asBoolean();
            boolean offloadable = "read".equals(n.path("label").asText()) && !n.path("session_state").asBoolean()
                    && !n.path("server_local").asBoolean() && !n.path("primary_assigned_xid").asBoolean();
            String setup = n.hasNonNull("setup") ? n.get("setup").asText() : null;
            items.add(new Item(n.path("id").asText(), n.path("sql").asText(), setup, must, offloadable, n));
        }
        return items;
    }

    public static Classification classify(Classifier classifier, Item item) {
        SessionSimulator session = new SessionSimulator(classifier, true);
        if (item.setup() != null) {
            session.run(item.setup());
        }
        return session.classify(item.sql());
    }

    public static Score score(Classifier classifier, List<Item> items) {
        int must = 0;
        int unsafe = 0;
        int offloadable = 0;
        int offloaded = 0;
        int serverLocal = 0;
        List<String> unsafeItems = new ArrayList<>();
        List<String> missed = new ArrayList<>();
        for (Item item : items) {
            Classification c = classify(classifier, item);
            String line = item.id() + " -> " + c.route() + " (" + c.reason() + "): " + abbreviate(item.sql());
            if (item.mustPrimary()) {
                must++;
                if (c.route() == Route.REPLICA) {
                    unsafe++;
                    unsafeItems.add(line);
                }
            }
            if (item.offloadable() && c.route() == Route.PRIMARY && c.has(Trait.SERVER_LOCAL_READ)) {
                serverLocal++;
            } else if (item.offloadable()) {
                offloadable++;
                if (c.route() == Route.REPLICA) {
                    offloaded++;
                } else {
                    missed.add(line);
                }
            }
        }
        return new Score(must, unsafe, offloadable, offloaded, serverLocal, unsafeItems, missed);
    }

    static String abbreviate(String sql) {
        String s = sql.replace('\n', ' ');
        return s.length() > 160 ? s.substring(0, 160) + "..." : s;
    }
}
