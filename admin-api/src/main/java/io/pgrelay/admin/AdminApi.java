package io.pgrelay.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.pgrelay.core.ProxyContext;
import io.pgrelay.core.cluster.Lsn;
import io.pgrelay.core.cluster.NodeStatus;
import io.pgrelay.core.cluster.Topology;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.dropwizard.DropwizardExports;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;

/** The admin endpoints, independent of the HTTP transport so they are easy to test. */
final class AdminApi {
    static final String JSON = "application/json; charset=utf-8";

    record Response(HttpResponseStatus status, String contentType, byte[] body) {
        static Response json(HttpResponseStatus status, Object value, ObjectMapper mapper) {
            try {
                return new Response(status, JSON, mapper.writeValueAsBytes(value));
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        static Response text(HttpResponseStatus status, String contentType, String body) {
            return new Response(status, contentType, body.getBytes(StandardCharsets.UTF_8));
        }
    }

    private final ProxyContext context;
    private final ObjectMapper mapper = new ObjectMapper();
    private final PrometheusRegistry prometheus = new PrometheusRegistry();
    private final PrometheusTextFormatWriter textFormat = PrometheusTextFormatWriter.create();

    AdminApi(ProxyContext context) {
        this.context = context;
        DropwizardExports.builder().dropwizardRegistry(context.metrics()).register(prometheus);
    }

    Response handle(FullHttpRequest request, SocketAddress remote) {
        String path = new QueryStringDecoder(request.uri()).path();
        HttpMethod method = request.method();
        if (method.equals(HttpMethod.GET)) {
            switch (path) {
                case "/healthz":
                    return Response.text(HttpResponseStatus.OK, "text/plain; charset=utf-8", "ok\n");
                case "/readyz":
                    return context.cluster().current().primary() != null
                            ? Response.text(HttpResponseStatus.OK, "text/plain; charset=utf-8", "ready\n")
                            : Response.text(HttpResponseStatus.SERVICE_UNAVAILABLE, "text/plain; charset=utf-8",
                            "no primary available\n");
                case "/metrics":
                    return metrics();
                case "/api/v1/cluster":
                    return Response.json(HttpResponseStatus.OK, cluster(context.cluster().current()), mapper);
                default:
                    break;
            }
        }
        return error(HttpResponseStatus.NOT_FOUND, "no such endpoint: " + method + " " + path);
    }

    private Response metrics() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(16 * 1024);
        try {
            textFormat.write(out, prometheus.scrape());
        } catch (IOException e) {
            return error(HttpResponseStatus.INTERNAL_SERVER_ERROR, e.getMessage());
        }
        return new Response(HttpResponseStatus.OK, textFormat.getContentType(), out.toByteArray());
    }

    ObjectNode cluster(Topology topology) {
        ObjectNode root = mapper.createObjectNode();
        NodeStatus primary = topology.primary();
        root.put("primary", primary != null ? primary.name() : null);
        ArrayNode nodes = root.putArray("nodes");
        for (NodeStatus node : topology.nodes()) {
            ObjectNode n = nodes.addObject();
            n.put("name", node.name());
            n.put("host", node.host());
            n.put("port", node.port());
            n.put("role", node.role().label());
            n.put("state", node.health().label());
            n.put("lagBytes", node.lagBytes());
            n.put("lagMillis", node.lagMillis());
            n.put("replayLsn", node.replayLsn() != 0 ? Lsn.format(node.replayLsn()) : null);
            n.put("currentLsn", node.currentLsn() != 0 ? Lsn.format(node.currentLsn()) : null);
            n.put("timeline", node.timeline());
            n.put("weight", node.config().weight());
            n.put("lastError", node.lastError());
        }
        return root;
    }

    Response error(HttpResponseStatus status, String message) {
        ObjectNode body = mapper.createObjectNode();
        body.put("error", message);
        body.put("status", status.code());
        return Response.json(status, body, mapper);
    }
}
