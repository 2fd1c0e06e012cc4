package io.pgrelay.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.pgrelay.core.config.ConfigException;
import io.pgrelay.core.config.ProxyConfig.NodeConfig;
import io.pgrelay.core.ops.ClusterOperations;
import io.pgrelay.core.ops.LeaderRoutedOperations;
import io.pgrelay.core.ops.OperationException;
import io.pgrelay.core.ops.OperationResult;
import io.pgrelay.core.ops.ProxyView;
import io.pgrelay.core.reload.ConfigReload;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * The admin endpoints, independent of the HTTP transport so they are easy to test. Reads
 * answer at once from the in-memory topology; mutating calls are authenticated and parsed on
 * the caller's thread, then run on a small executor because they talk to PostgreSQL.
 */
final class AdminApi implements AutoCloseable {
    static final String JSON = "application/json; charset=utf-8";
    private static final Logger audit = LoggerFactory.getLogger("io.pgrelay.audit");
    private static final String API = "/api/v1";
    private static final Set<String> NODE_ACTIONS = Set.of("drain", "enable", "fence", "unfence");

    record Response(HttpResponseStatus status, String contentType, byte[] body, Map<String, String> headers) {
        Response(HttpResponseStatus status, String contentType, byte[] body) {
            this(status, contentType, body, Map.of());
        }

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

        Response withHeader(String name, String value) {
            Map<String, String> copy = new HashMap<>(headers);
            copy.put(name, value);
            return new Response(status, contentType, body, Map.copyOf(copy));
        }
    }

    /** A request the API refuses before running anything. */
    private static final class Refusal extends RuntimeException {
        final Response response;

        Refusal(Response response) {
            super(null, null, false, false);
            this.response = response;
        }
    }

    private final ProxyView proxy;
    private final ConfigReload reload;
    private final ObjectMapper mapper = new ObjectMapper();
    private final ClusterJson json;
    private final PrometheusRegistry prometheus = new PrometheusRegistry();
    private final PrometheusTextFormatWriter textFormat = PrometheusTextFormatWriter.create();
    private final byte[] token;
    private final ExecutorService executor;

    AdminApi(ProxyView proxy, ConfigReload reload) {
        this.proxy = proxy;
        this.json = new ClusterJson(proxy, mapper);
        this.reload = reload;
        String configured = proxy.config().admin().token();
        this.token = configured == null || configured.isEmpty() ? null : configured.getBytes(StandardCharsets.UTF_8);
        prometheus.register(proxy.prometheusMetrics());
        AtomicInteger threads = new AtomicInteger();
        // Operations serialize on their own lock; a few threads let a second call get its 409 at once.
        ThreadPoolExecutor pool = new ThreadPoolExecutor(4, 4, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(16),
                r -> {
                    Thread thread = new Thread(r, "pgrelay-admin-ops-" + threads.incrementAndGet());
                    thread.setDaemon(true);
                    return thread;
                });
        pool.allowCoreThreadTimeOut(true);
        this.executor = pool;
    }

    /** Answers a request; must be called while {@code request} is still readable (its body is parsed here). */
    CompletableFuture<Response> handle(FullHttpRequest request, SocketAddress remote) {
        String path = new QueryStringDecoder(request.uri()).path();
        if (path.length() > 1 && path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        HttpMethod method = request.method();
        try {
            Response read = read(method, path);
            if (read != null) {
                return CompletableFuture.completedFuture(read);
            }
            return mutate(request, method, path, remote);
        } catch (Refusal e) {
            return CompletableFuture.completedFuture(e.response);
        }
    }

    /** GET endpoints; null when the request is not one of them. */
    private Response read(HttpMethod method, String path) {
        boolean get = method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD);
        switch (path) {
            case "/healthz":
                requireMethod(get, "GET");
                return Response.text(HttpResponseStatus.OK, "text/plain; charset=utf-8", "ok\n");
            case "/readyz":
                requireMethod(get, "GET");
                return proxy.topology().primary() != null
                        ? Response.text(HttpResponseStatus.OK, "text/plain; charset=utf-8", "ready\n")
                        : Response.text(HttpResponseStatus.SERVICE_UNAVAILABLE, "text/plain; charset=utf-8",
                        "no primary available\n");
            case "/metrics":
                requireMethod(get, "GET");
                return metrics();
            case API + "/cluster":
                requireMethod(get, "GET");
                return Response.json(HttpResponseStatus.OK, json.cluster(proxy.topology()), mapper);
            case API + "/replication-mode":
                return get ? Response.json(HttpResponseStatus.OK, json.mode(), mapper) : null;
            default:
                return null;
        }
    }

    private void requireMethod(boolean allowed, String allow) {
        if (!allowed) {
            throw new Refusal(error(HttpResponseStatus.METHOD_NOT_ALLOWED, "method not allowed; use " + allow)
                    .withHeader("Allow", allow));
        }
    }

    // ------------------------------------------------------------------ mutating calls

    private CompletableFuture<Response> mutate(FullHttpRequest request, HttpMethod method, String path,
                                               SocketAddress remote) {
        String what = method + " " + path;
        String actor = "anonymous@" + address(remote);
        Function<String, Response> operation;
        try {
            try {
                operation = route(method, path, request);
            } catch (Refusal e) {
                int code = e.response.status().code();
                if (code != 404 && code != 405) {
                    authenticate(request, remote); // a bad body is only news to the token holder
                }
                throw e;
            }
            actor = authenticate(request, remote);
            actor = forwardedActor(request, actor);
        } catch (Refusal e) {
            int code = e.response.status().code();
            if (code != 404 && code != 405) {
                audit(actor, what, code, errorText(e.response));
            }
            throw e;
        }
        String who = actor;
        Function<String, Response> call = operation;
        try {
            return CompletableFuture.supplyAsync(() -> run(who, what, call), executor);
        } catch (RejectedExecutionException e) {
            audit(who, what, 503, "too many admin operations queued");
            return CompletableFuture.completedFuture(
                    error(HttpResponseStatus.SERVICE_UNAVAILABLE, "too many admin operations queued"));
        }
    }

    private Response run(String actor, String what, Function<String, Response> call) {
        try {
            Response response = call.apply(actor);
            int status = response.status().code();
            audit(actor, what, status, status == 200 ? "ok" : errorText(response));
            return response;
        } catch (OperationException e) {
            HttpResponseStatus status = switch (e.kind()) {
                case BAD_REQUEST -> HttpResponseStatus.BAD_REQUEST;
                case NOT_FOUND -> HttpResponseStatus.NOT_FOUND;
                case CONFLICT -> HttpResponseStatus.CONFLICT;
                case UNAVAILABLE -> HttpResponseStatus.SERVICE_UNAVAILABLE;
            };
            audit(actor, what, status.code(), e.getMessage());
            return error(status, e.getMessage());
        } catch (ConfigException e) {
            audit(actor, what, 400, e.getMessage());
            return error(HttpResponseStatus.BAD_REQUEST, e.getMessage());
        } catch (RuntimeException e) {
            LoggerFactory.getLogger(AdminApi.class).error("{} by {} failed", what, actor, e);
            audit(actor, what, 500, String.valueOf(e.getMessage()));
            return error(HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal error: " + e.getMessage());
        }
    }

    /** Matches a mutating endpoint and parses its body; throws a {@link Refusal} for unknown paths and bad bodies. */
    private Function<String, Response> route(HttpMethod method, String path, FullHttpRequest request) {
        if (path.equals(API + "/reload")) {
            requireMethod(method.equals(HttpMethod.POST), "POST");
            body(request, Set.of());
            return actor -> Response.json(HttpResponseStatus.OK, json.reloadReport(reload.reload(actor)), mapper);
        }
        Function<String, OperationResult> operation = operation(method, path, request);
        return actor -> {
            OperationResult result = operation.apply(actor);
            return Response.json(result.success() ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE,
                    json.result(result), mapper);
        };
    }

    private Function<String, OperationResult> operation(HttpMethod method, String path, FullHttpRequest request) {
        if (path.equals(API + "/switchover") || path.equals(API + "/failover")) {
            requireMethod(method.equals(HttpMethod.POST), "POST");
            String candidate = optionalString(body(request, Set.of("candidate")), "candidate");
            boolean switchover = path.endsWith("switchover");
            return actor -> switchover ? operations().switchover(candidate, actor)
                    : operations().failover(candidate, actor);
        }
        if (path.equals(API + "/replication-mode")) {
            requireMethod(method.equals(HttpMethod.PUT), "GET, PUT");
            JsonNode body = body(request, Set.of("mode", "acks"));
            String mode = optionalString(body, "mode");
            if (mode == null) {
                throw new Refusal(error(HttpResponseStatus.BAD_REQUEST,
                        "\"mode\" is required: async | semi-sync | sync"));
            }
            Integer acks = optionalInt(body, "acks");
            return actor -> operations().setReplicationMode(mode, acks, actor);
        }
        if (path.equals(API + "/nodes")) {
            requireMethod(method.equals(HttpMethod.POST), "POST");
            JsonNode body = body(request, Set.of("name", "host", "port", "weight"));
            NodeConfig node;
            try {
                Integer port = optionalInt(body, "port");
                if (port != null && (port < 1 || port > 65535)) {
                    throw new ConfigException("\"port\" must be between 1 and 65535");
                }
                node = new NodeConfig(optionalString(body, "name"), optionalString(body, "host"), port,
                        optionalInt(body, "weight"));
            } catch (ConfigException e) {
                throw new Refusal(error(HttpResponseStatus.BAD_REQUEST, e.getMessage()));
            }
            return actor -> operations().addNode(node, actor);
        }
        if (path.startsWith(API + "/nodes/")) {
            String[] parts = path.substring((API + "/nodes/").length()).split("/", -1);
            String name = QueryStringDecoder.decodeComponent(parts[0]);
            if (parts.length == 1 && !name.isEmpty()) {
                requireMethod(method.equals(HttpMethod.DELETE), "DELETE");
                return actor -> operations().removeNode(name, actor);
            }
            if (parts.length == 2 && !name.isEmpty() && NODE_ACTIONS.contains(parts[1])) {
                requireMethod(method.equals(HttpMethod.POST), "POST");
                body(request, Set.of());
                return switch (parts[1]) {
                    case "drain" -> actor -> operations().drain(name, actor);
                    case "enable" -> actor -> operations().enable(name, actor);
                    case "fence" -> actor -> operations().fence(name, actor);
                    default -> actor -> operations().unfence(name, actor);
                };
            }
        }
        throw new Refusal(error(HttpResponseStatus.NOT_FOUND, "no such endpoint: " + method + " " + path));
    }

    /**
     * A call a follower carried here: run only while this instance leads (never passed on again, so
     * a call cannot circle while leadership moves), audited under the original actor.
     */
    private String forwardedActor(FullHttpRequest request, String actor) {
        String follower = request.headers().get(LeaderRoutedOperations.FORWARDED_BY);
        if (follower == null) {
            return actor;
        }
        if (!proxy.leadership().self()) {
            throw new Refusal(error(HttpResponseStatus.SERVICE_UNAVAILABLE, "this instance no longer leads"
                    + " (the leader is " + proxy.leadership().leaderId() + "); retry"));
        }
        String original = request.headers().get(LeaderRoutedOperations.ACTOR);
        return (original == null ? actor : original) + " via " + follower;
    }

    private ClusterOperations operations() {
        return proxy.operations().orElseThrow(() -> new OperationException(OperationException.Kind.UNAVAILABLE,
                "cluster operations are not available"));
    }

    /** The bearer token's holder, or a 403 (no token configured) / 401 (missing or wrong token) refusal. */
    private String authenticate(FullHttpRequest request, SocketAddress remote) {
        if (token == null) {
            throw new Refusal(error(HttpResponseStatus.FORBIDDEN,
                    "mutating calls are disabled: no admin.token is configured"));
        }
        String header = request.headers().get(HttpHeaderNames.AUTHORIZATION);
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw new Refusal(error(HttpResponseStatus.UNAUTHORIZED,
                    "missing bearer token: send Authorization: Bearer <admin.token>")
                    .withHeader("WWW-Authenticate", "Bearer realm=\"pgrelay\""));
        }
        byte[] presented = header.substring(7).strip().getBytes(StandardCharsets.UTF_8);
        if (!MessageDigest.isEqual(presented, token)) {
            throw new Refusal(error(HttpResponseStatus.UNAUTHORIZED, "invalid bearer token")
                    .withHeader("WWW-Authenticate", "Bearer realm=\"pgrelay\", error=\"invalid_token\""));
        }
        return "token-holder@" + address(remote);
    }

    private static String address(SocketAddress remote) {
        if (remote instanceof InetSocketAddress inet) {
            return inet.getHostString() + ":" + inet.getPort();
        }
        return String.valueOf(remote);
    }

    /** The JSON object body (an empty body is an empty object); unknown fields are refused so typos show. */
    private JsonNode body(FullHttpRequest request, Set<String> allowed) {
        if (request.content().readableBytes() == 0) {
            return mapper.createObjectNode();
        }
        JsonNode body;
        try {
            body = mapper.readTree(request.content().toString(StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw new Refusal(error(HttpResponseStatus.BAD_REQUEST, "invalid JSON: " + e.getOriginalMessage()));
        }
        if (body == null || body.isMissingNode()) {
            return mapper.createObjectNode();
        }
        if (!body.isObject()) {
            throw new Refusal(error(HttpResponseStatus.BAD_REQUEST, "the body must be a JSON object"));
        }
        for (Iterator<String> names = body.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!allowed.contains(name)) {
                throw new Refusal(error(HttpResponseStatus.BAD_REQUEST, "unknown field \"" + name + "\""
                        + (allowed.isEmpty() ? "; this call takes no body" : "; expected " + allowed)));
            }
        }
        return body;
    }

    private String optionalString(JsonNode body, String field) {
        JsonNode value = body.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isTextual()) {
            throw new Refusal(error(HttpResponseStatus.BAD_REQUEST, "\"" + field + "\" must be a string"));
        }
        return value.asText();
    }

    private Integer optionalInt(JsonNode body, String field) {
        JsonNode value = body.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isIntegralNumber() || !value.canConvertToInt()) {
            throw new Refusal(error(HttpResponseStatus.BAD_REQUEST, "\"" + field + "\" must be an integer"));
        }
        return value.intValue();
    }

    private static void audit(String actor, String what, int status, String result) {
        audit.info("actor={} action=\"{}\" status={} result=\"{}\"", actor, what, status,
                result == null ? "" : result.replace('"', '\''));
    }

    private String errorText(Response response) {
        try {
            return mapper.readTree(response.body()).path("error").asText();
        } catch (IOException e) {
            return response.status().toString();
        }
    }

    // ------------------------------------------------------------------ bodies

    private Response metrics() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(16 * 1024);
        try {
            textFormat.write(out, prometheus.scrape());
        } catch (IOException e) {
            return error(HttpResponseStatus.INTERNAL_SERVER_ERROR, e.getMessage());
        }
        return new Response(HttpResponseStatus.OK, textFormat.getContentType(), out.toByteArray());
    }

    Response error(HttpResponseStatus status, String message) {
        ObjectNode body = mapper.createObjectNode();
        body.put("error", message);
        body.put("status", status.code());
        return Response.json(status, body, mapper);
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
