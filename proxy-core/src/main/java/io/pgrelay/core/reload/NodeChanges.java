package io.pgrelay.core.reload;

import io.pgrelay.core.config.ProxyConfig.NodeConfig;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How the {@code nodes} list changed: nodes to add, to remove, and to re-weight in place. A node
 * whose host or port changed is removed and added again (it is another server).
 */
public record NodeChanges(List<NodeConfig> added, List<NodeConfig> removed, List<NodeConfig> reweighted) {
    public NodeChanges {
        added = List.copyOf(added);
        removed = List.copyOf(removed);
        reweighted = List.copyOf(reweighted);
    }

    public static NodeChanges between(List<NodeConfig> running, List<NodeConfig> next) {
        Map<String, NodeConfig> before = byName(running);
        Map<String, NodeConfig> after = byName(next);
        List<NodeConfig> added = new ArrayList<>();
        List<NodeConfig> removed = new ArrayList<>();
        List<NodeConfig> reweighted = new ArrayList<>();
        for (NodeConfig old : running) {
            NodeConfig now = after.get(old.name());
            if (now == null || !now.host().equals(old.host()) || !now.port().equals(old.port())) {
                removed.add(old);
            } else if (!now.weight().equals(old.weight())) {
                reweighted.add(now);
            }
        }
        for (NodeConfig now : next) {
            NodeConfig old = before.get(now.name());
            if (old == null || !now.host().equals(old.host()) || !now.port().equals(old.port())) {
                added.add(now);
            }
        }
        return new NodeChanges(added, removed, reweighted);
    }

    private static Map<String, NodeConfig> byName(List<NodeConfig> nodes) {
        Map<String, NodeConfig> map = new LinkedHashMap<>();
        for (NodeConfig node : nodes) {
            map.put(node.name(), node);
        }
        return map;
    }

    public boolean isEmpty() {
        return added.isEmpty() && removed.isEmpty() && reweighted.isEmpty();
    }

    /** e.g. {@code added pg3 (10.0.0.3:5432); removed pg2; pg1 weight 3}. */
    public String describe() {
        List<String> parts = new ArrayList<>();
        for (NodeConfig node : removed) {
            parts.add("removed " + node.name());
        }
        for (NodeConfig node : added) {
            parts.add("added " + node.name() + " (" + node.host() + ":" + node.port() + ")");
        }
        for (NodeConfig node : reweighted) {
            parts.add(node.name() + " weight " + node.weight());
        }
        return String.join("; ", parts);
    }
}
