package io.pgrelay.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
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

    static ArrayNode of(Membership membership, Leadership leadership, ObjectMapper mapper) {
        ArrayNode proxies = mapper.createArrayNode();
        for (ProxyMember member : membership.members()) {
            proxies.addObject()
                    .put("id", member.id())
                    .put("address", member.address())
                    .put("admin", member.admin())
                    .put("version", member.version())
                    .put("startedAt", member.startedAt().toString())
                    .put("self", membership.isSelf(member))
                    .put("leader", leadership.isLeader(member));
        }
        return proxies;
    }
}
