package io.pgrelay.core.coordination;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;

/**
 * A member's etcd value: {@code {"id", "address", "admin", "version", "startedAt", "advertised", "slot"}}
 * as UTF-8 JSON. {@code advertised} and {@code slot} are optional (an instance without a slot writes
 * none): a record without them is read as advertised at {@code address}, holding no slot.
 */
final class MemberCodec {
    private static final ObjectMapper JSON = new ObjectMapper();

    private MemberCodec() {
    }

    static byte[] encode(ProxyMember member) {
        ObjectNode node = JSON.createObjectNode();
        node.put("id", member.id());
        node.put("address", member.address());
        node.put("admin", member.admin());
        node.put("version", member.version());
        node.put("startedAt", member.startedAt().toString());
        node.put("advertised", member.advertised());
        if (member.hasSlot()) {
            node.put("slot", member.slot());
        }
        try {
            return JSON.writeValueAsBytes(node);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The member a value describes; throws IllegalArgumentException for a value that is not one. */
    static ProxyMember decode(byte[] value) {
        try {
            JsonNode node = JSON.readTree(value);
            if (node == null || !node.isObject()) {
                throw new IllegalArgumentException("not a JSON object");
            }
            String address = text(node, "address");
            JsonNode advertised = node.get("advertised");
            JsonNode slot = node.get("slot");
            return new ProxyMember(text(node, "id"), address, text(node, "admin"), text(node, "version"),
                    Instant.parse(text(node, "startedAt")),
                    advertised != null && advertised.isTextual() ? advertised.asText() : address,
                    slot != null && slot.isInt() && IssuedProcessIds.isSlot(slot.asInt()) ? slot.asInt()
                            : IssuedProcessIds.NO_SLOT);
        } catch (IOException | DateTimeParseException e) {
            throw new IllegalArgumentException("not a member record: "
                    + new String(value, StandardCharsets.UTF_8), e);
        }
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || !value.isTextual()) {
            throw new IllegalArgumentException("member record without \"" + field + "\"");
        }
        return value.asText();
    }
}
