package io.pgrelay.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgrelay.core.coordination.ClusterRecord;
import io.pgrelay.core.coordination.Leadership;
import io.pgrelay.core.coordination.Membership;
import io.pgrelay.core.coordination.ProxyMember;

/**
 * The {@code "proxies"} of {@code GET /api/v1/cluster}: the live pgrelay instances, {@code self} marking
 * this one and {@code leader} the one that runs the cluster operations.
 */
final class ProxiesJson {
    private ProxiesJson() {
    }

    /** The shared cluster record this instance routes by; null before it read one. */
    static ObjectNode record(ClusterRecord record, ObjectMapper mapper) {
        if (record == null) {
            return null;
        }
        ObjectNode node = mapper.createObjectNode();
        node.put("epoch", record.epoch());
        node.put("primary", record.primary());
        node.put("timeline", record.timeline());
        record.fenced().stream().sorted().forEach(node.putArray("fenced")::add);
        record.drained().stream().sorted().forEach(node.putArray("drained")::add);
        record.removed().stream().sorted().forEach(node.putArray("removed")::add);
        node.putObject("replicationMode").put("mode", record.mode()).put("acks", record.acks());
        return node;
    }

    static ArrayNode of(Membership membership, Leadership leadership, ObjectMapper mapper) {
        ArrayNode proxies = mapper.createArrayNode();
        for (ProxyMember member : membership.members()) {
            ObjectNode proxy = proxies.addObject()
                    .put("id", member.id())
                    .put("address", member.address())
                    .put("advertised", member.advertised())
                    .put("admin", member.admin())
                    .put("version", member.version())
                    .put("startedAt", member.startedAt().toString())
                    .put("self", membership.isSelf(member))
                    .put("leader", leadership.isLeader(member));
            if (member.hasSlot()) {
                proxy.put("slot", member.slot());
            } else {
                proxy.putNull("slot");
            }
        }
        return proxies;
    }
}
