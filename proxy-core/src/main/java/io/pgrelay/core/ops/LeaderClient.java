package io.pgrelay.core.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgrelay.core.coordination.ProxyMember;
import io.pgrelay.core.ops.OperationException.Kind;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Carries one cluster operation to the leader's admin API ({@code java.net.http}, on the caller's
 * thread, which is never an event loop) and turns its answer back into an {@link OperationResult}
 * or the {@link OperationException} the leader raised. The request names this instance in
 * {@link LeaderRoutedOperations#FORWARDED_BY}, so a leader that lost its leadership meanwhile refuses it rather than
 * passing it on again, and the original actor in {@link LeaderRoutedOperations#ACTOR} for the leader's audit log.
 */
final class LeaderClient {
    /** Longer than any operation runs (a switchover waits at most failover.switchover-timeout). */
    private static final Duration OPERATION_TIMEOUT = Duration.ofMinutes(3);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();

    /** {@code method path} with {@code body} (null = none) on {@code leader}, authenticated with {@code token}. */
    OperationResult call(ProxyMember leader, String selfId, String token, String actor, String method, String path,
                         ObjectNode body) {
        URI uri = URI.create("http://" + leader.admin() + "/api/v1" + path);
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(OPERATION_TIMEOUT)
                .header("Authorization", "Bearer " + token)
                .header(LeaderRoutedOperations.FORWARDED_BY, String.valueOf(selfId))
                .header(LeaderRoutedOperations.ACTOR, actor)
                .header("Content-Type", "application/json");
        request.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body.toString()));
        HttpResponse<String> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new OperationException(Kind.UNAVAILABLE, "cannot reach the leader " + leader.id() + " at "
                    + leader.admin() + " (" + e + "); retry when a leader answers");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new OperationException(Kind.UNAVAILABLE, "interrupted while waiting for the leader");
        }
        return decode(leader, response.statusCode(), response.body());
    }

    /** The leader's answer: an operation body (200 or 503), or an error body mapped back to its kind. */
    static OperationResult decode(ProxyMember leader, int status, String text) {
        JsonNode body;
        try {
            body = JSON.readTree(text);
        } catch (IOException e) {
            body = null;
        }
        if (body != null && body.hasNonNull("operation")) {
            List<OperationResult.Step> steps = new ArrayList<>();
            for (JsonNode step : body.path("steps")) {
                steps.add(new OperationResult.Step(step.path("name").asText(), step.path("outcome").asText(),
                        step.path("millis").asLong()));
            }
            return new OperationResult(body.get("operation").asText(), body.path("success").asBoolean(),
                    body.hasNonNull("error") ? body.get("error").asText() : null, steps,
                    body.path("durationMillis").asLong());
        }
        String error = body != null && body.hasNonNull("error") ? body.get("error").asText()
                : "HTTP " + status + " " + (text == null ? "" : text.strip());
        Kind kind = switch (status) {
            case 400 -> Kind.BAD_REQUEST;
            case 404 -> Kind.NOT_FOUND;
            case 409 -> Kind.CONFLICT;
            default -> Kind.UNAVAILABLE;
        };
        throw new OperationException(kind, status == 401 || status == 403
                ? "the leader " + leader.id() + " refused this instance's admin.token (" + error
                + "); every instance needs the same admin.token"
                : error);
    }

    static String segment(String name) {
        return URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20");
    }

    static ObjectNode object() {
        return JSON.createObjectNode();
    }
}
