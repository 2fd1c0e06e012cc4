package io.pgrelay.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgrelay.core.coordination.Membership;
import io.pgrelay.core.coordination.ProxyMember;

/** The {@code "proxies"} of {@code GET /api/v1/cluster}: the live pgrelay instances, {@code self} marking this one. */
final class ProxiesJson {
    private ProxiesJson() {
    }

    static ArrayNode of(Membership membership, ObjectMapper mapper) {
        ArrayNode proxies = mapper.createArrayNode();
        for (ProxyMember member : membership.members()) {
            ObjectNode proxy = proxies.addObject()
                    .put("id", member.id())
                    .put("address", member.address())
                    .put("advertised", member.advertised())
                    .put("admin", member.admin())
                    .put("version", member.version())
                    .put("startedAt", member.startedAt().toString())
                    .put("self", membership.isSelf(member));
            if (member.hasSlot()) {
                proxy.put("slot", member.slot());
            } else {
                proxy.putNull("slot");
            }
        }
        return proxies;
    }
}
