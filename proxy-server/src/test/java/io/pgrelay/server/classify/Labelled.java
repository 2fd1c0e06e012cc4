package io.pgrelay.server.classify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgrelay.core.classify.Classification;
import io.pgrelay.core.classify.Classifier;
import io.pgrelay.core.classify.Route;
import io.pgrelay.core.classify.SessionSimulator;
import io.pgrelay.core.classify.Trait;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Labelled statements and their scoring, exactly as ../shared/corpus/README.md says. */
final class Labelled {
    record Item(String id, String sql, String setup, boolean mustPrimary, boolean offloadable, JsonNode raw) {
    }

    record Score(int must, int unsafe, int offloadable, int offloaded, int serverLocal, List<String> unsafeItems,
                 List<String> missedReads) {
        double offloadRate() {
            return offloadable == 0 ? 1.0 : (double) offloaded / offloadable;
        }

        String summary(String name) {
            return String.format("%s: %d must-primary statements, %d unsafe misroutes; %d of %d offloadable reads"
                    + " routed to a replica (%.2f%%); %d per-server reads kept on the primary", name, must, unsafe,
                    offloaded, offloadable, 100 * offloadRate(), serverLocal);
        }
    }

    private Labelled() {
    }

    static List<Item> read(Path file) throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        List<Item> items = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode n = mapper.readTree(line);
            items.add(item(n));
        }
        return items;
    }

    static Item item(JsonNode n) {
        boolean must = "write".equals(n.path("label").asText()) || n.path("server_local").asBoolean()
                || n.path("primary_assigned_xid").asBoolean();
        boolean offloadable = "read".equals(n.path("label").asText()) && !n.path("session_state").asBoolean()
                && !n.path("server_local").asBoolean() && !n.path("primary_assigned_xid").asBoolean();
        String setup = n.hasNonNull("setup") ? n.get("setup").asText() : null;
        return new Item(n.path("id").asText(), n.path("sql").asText(), setup, must, offloadable, n);
    }

    static Classification classify(Classifier classifier, Item item) {
        SessionSimulator session = new SessionSimulator(classifier, true);
        if (item.setup() != null) {
            session.run(item.setup());
        }
        return session.classify(item.sql());
    }

    static Score score(Classifier classifier, List<Item> items) {
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
                serverLocal++; // per-server answers go to the primary by design
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
