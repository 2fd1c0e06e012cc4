package io.pgrelay.server.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Calls a test proxy's admin REST API with its token ({@code test-token}). */
public final class AdminClient {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private final String base;

    public AdminClient(TestProxy proxy) {
        this.base = proxy.adminUri();
    }

    public record Reply(int status, JsonNode body) {
    }

    public Reply call(String method, String path, String body) {
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(90))
                .header("Authorization", "Bearer test-token")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body))
                .build();
        try {
            HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
            return new Reply(response.statusCode(), JSON.readTree(response.body()));
        } catch (IOException e) {
            throw new IllegalStateException(method + " " + path + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public JsonNode cluster() {
        return call("GET", "/api/v1/cluster", null).body();
    }

    public String primary() {
        JsonNode primary = cluster().get("primary");
        return primary == null || primary.isNull() ? null : primary.asText();
    }

    public String state(String node) {
        for (JsonNode n : cluster().get("nodes")) {
            if (n.get("name").asText().equals(node)) {
                return n.get("state").asText();
            }
        }
        return null;
    }
}
