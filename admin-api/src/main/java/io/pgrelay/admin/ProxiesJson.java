package io.pgrelay.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgrelay.core.coordination.ClusterRecord;
import io.pgrelay.core.coordination.ClusterRecordCodec;
import io.pgrelay.core.coordination.Leadership;
import io.pgrelay.core.coordination.Membership;
import io.pgrelay.core.coordination.ProxyMember;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The {@code "proxies"} of {@code GET /api/v1/cluster}: the live pgrelay instances, {@code self} marking
 * this one and {@code leader} the one that runs the cluster operations.
 */
final class ProxiesJson {
    private ProxiesJson() {
    }

    /** The shared cluster record this instance routes by, as etcd holds it; null before it read one. */
    static JsonNode record(ClusterRecord record, ObjectMapper mapper) {
        if (record == null) {
            return null;
        }
        try {
            return mapper.readTree(ClusterRecordCodec.encode(record));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
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
