package io.pgrelay.core.coordination;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgrelay.core.config.ConfigException;
import io.pgrelay.core.config.ProxyConfig.NodeConfig;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The cluster record's etcd value, UTF-8 JSON:
 * {@code {"epoch":7,"primary":"pg2","timeline":3,"fenced":["pg1"],"drained":[],"removed":[],
 * "replicationMode":{"mode":"async","acks":0},"nodes":[{"name":"pg1","host":"10.0.0.1","port":5432,"weight":1}]}}. Unknown fields are ignored, so a newer version
 * may add some; a value without an epoch is refused.
 */
public final class ClusterRecordCodec {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ClusterRecordCodec() {
    }

    public static byte[] encode(ClusterRecord record) {
        ObjectNode node = JSON.createObjectNode();
        node.put("epoch", record.epoch());
        node.put("primary", record.primary());
        node.put("timeline", record.timeline());
        names(node.putArray("fenced"), record.fenced());
        names(node.putArray("drained"), record.drained());
        names(node.putArray("removed"), record.removed());
        node.putObject("replicationMode").put("mode", record.mode()).put("acks", record.acks());
        ArrayNode nodes = node.putArray("nodes");
        for (NodeConfig n : record.nodes()) {
            nodes.addObject().put("name", n.name()).put("host", n.host()).put("port", n.port())
                    .put("weight", n.weight());
        }
        try {
            return JSON.writeValueAsBytes(node);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void names(ArrayNode array, Set<String> names) {
        new TreeSet<>(names).forEach(array::add);
    }

    /** The record a value holds; IllegalArgumentException for a value that is not one. */
    public static ClusterRecord decode(byte[] value) {
        JsonNode node;
        try {
            node = JSON.readTree(value);
        } catch (IOException e) {
            throw new IllegalArgumentException("not JSON: " + new String(value, StandardCharsets.UTF_8), e);
        }
        if (node == null || !node.isObject() || !node.path("epoch").canConvertToLong()
                || !node.path("epoch").isIntegralNumber()) {
            throw new IllegalArgumentException("not a cluster record (no integer \"epoch\"): "
                    + new String(value, StandardCharsets.UTF_8));
        }
        JsonNode primary = node.path("primary");
        JsonNode mode = node.path("replicationMode");
        return new ClusterRecord(node.get("epoch").asLong(), primary.isTextual() ? primary.asText() : null,
                node.path("timeline").asLong(0), names(node, "fenced"), names(node, "drained"),
                names(node, "removed"), mode.path("mode").isTextual() ? mode.get("mode").asText() : "async",
                mode.path("acks").asInt(0), nodes(node));
    }

    /** A record from a version without the field names no nodes: nobody adds any from it. */
    private static List<NodeConfig> nodes(JsonNode record) {
        JsonNode array = record.path("nodes");
        if (array.isMissingNode() || array.isNull()) {
            return List.of();
        }
        if (!array.isArray()) {
            throw new IllegalArgumentException("cluster record: \"nodes\" must be an array");
        }
        List<NodeConfig> nodes = new ArrayList<>();
        for (JsonNode n : array) {
            if (!n.path("name").isTextual() || !n.path("host").isTextual() || !n.path("port").canConvertToInt()) {
                throw new IllegalArgumentException("cluster record: a node needs a name, a host and a port: " + n);
            }
            try {
                nodes.add(new NodeConfig(n.get("name").asText(), n.get("host").asText(), n.get("port").asInt(),
                        n.path("weight").canConvertToInt() ? n.get("weight").asInt() : null));
            } catch (ConfigException e) {
                throw new IllegalArgumentException("cluster record: " + e.getMessage(), e);
            }
        }
        return nodes;
    }

    private static Set<String> names(JsonNode node, String field) {
        Set<String> names = new TreeSet<>();
        JsonNode array = node.path(field);
        if (!array.isMissingNode() && !array.isNull() && !array.isArray()) {
            throw new IllegalArgumentException("cluster record: \"" + field + "\" must be an array");
        }
        for (JsonNode name : array) {
            if (!name.isTextual()) {
                throw new IllegalArgumentException("cluster record: \"" + field + "\" must hold node names");
            }
            names.add(name.asText());
        }
        return names;
    }
}
