package io.pgrelay.core.coordination;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.TreeSet;

/**
 * What one instance publishes under its lease at {@code <prefix>/health/<member-id>}: the nodes it
 * sees down for the whole detection window ({@code failover.detect} failed probes), and the epoch
 * of the last cluster record it applied. As JSON: {@code {"down":["pg1"],"epoch":7}}.
 */
public record HealthReport(Set<String> down, long epoch) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public HealthReport {
        down = Set.copyOf(new TreeSet<>(down));
    }

    byte[] encode() {
        ObjectNode node = JSON.createObjectNode();
        new TreeSet<>(down).forEach(node.putArray("down")::add);
        node.put("epoch", epoch);
        try {
            return JSON.writeValueAsBytes(node);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** IllegalArgumentException for a value that is not a report. */
    static HealthReport decode(byte[] value) {
        try {
            JsonNode node = JSON.readTree(value);
            if (node == null || !node.isObject() || !node.path("down").isArray()) {
                throw new IllegalArgumentException("not a health report: " + new String(value, StandardCharsets.UTF_8));
            }
            Set<String> down = new TreeSet<>();
            node.get("down").forEach(name -> down.add(name.asText()));
            return new HealthReport(down, node.path("epoch").asLong(0));
        } catch (IOException e) {
            throw new IllegalArgumentException("not JSON: " + new String(value, StandardCharsets.UTF_8), e);
        }
    }
}
