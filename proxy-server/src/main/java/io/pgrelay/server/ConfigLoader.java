package io.pgrelay.server;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.pgrelay.core.config.AuthMethod;
import io.pgrelay.core.config.BackendTlsMode;
import io.pgrelay.core.config.ConfigException;
import io.pgrelay.core.config.HostPort;
import io.pgrelay.core.config.PoolMode;
import io.pgrelay.core.config.ProxyConfig;
import io.pgrelay.core.config.TlsMode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the YAML configuration: expands {@code ${VAR}} and {@code ${VAR:-default}} from the
 * environment, reads secrets from files ({@code password-file}, {@code backend-password-file},
 * {@code token-file}: the file's content without its trailing newline), accepts durations ({@code 500ms}, {@code 10s}, {@code 5m}) and sizes
 * ({@code 64MB}), and rejects unknown keys with their path, so a typo never passes
 * silently.
 */
public final class ConfigLoader {
    private static final Pattern ENV = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");
    private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(us|ms|s|m|h|d)?");
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([kKmMgG]?)(?:i?[bB])?");
    /** Keys that hold a secret and may instead name a file holding it ({@code <key>-file}). */
    private static final List<String> SECRET_KEYS = List.of("password", "backend-password", "token");
    private static final String FILE_SUFFIX = "-file";

    private final Function<String, String> environment;
    private final ObjectMapper mapper;

    public ConfigLoader() {
        this(System::getenv);
    }

    public ConfigLoader(Function<String, String> environment) {
        this.environment = environment;
        SimpleModule module = new SimpleModule("pgrelay-config");
        module.addDeserializer(Duration.class, from(ConfigLoader::parseDuration));
        module.addDeserializer(HostPort.class, from(HostPort::parse));
        module.addDeserializer(PoolMode.class, from(text -> enumValue(PoolMode.class, text)));
        module.addDeserializer(TlsMode.class, from(ConfigLoader::clientTlsMode));
        module.addDeserializer(BackendTlsMode.class, from(text -> enumValue(BackendTlsMode.class, text)));
        module.addDeserializer(AuthMethod.class, from(text -> enumValue(AuthMethod.class, text)));
        module.addDeserializer(Long.class, from(ConfigLoader::parseSize));
        this.mapper = JsonMapper.builder()
                .propertyNamingStrategy(PropertyNamingStrategies.KEBAB_CASE)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
                .addModule(module)
                .build();
    }

    public ProxyConfig load(Path file) {
        try {
            return parse(Files.readString(file));
        } catch (IOException e) {
            throw new ConfigException("cannot read configuration " + file + ": " + e.getMessage(), e);
        }
    }

    public ProxyConfig parse(String yaml) {
        try {
            JsonNode tree = new ObjectMapper(new YAMLFactory()).readTree(yaml);
            if (tree == null || !tree.isObject()) {
                throw new ConfigException("configuration must be a YAML mapping");
            }
            return mapper.treeToValue(readSecretFiles(expand(tree), ""), ProxyConfig.class);
        } catch (UnrecognizedPropertyException e) {
            throw new ConfigException("unknown configuration key '" + path(e) + "'");
        } catch (JsonMappingException e) {
            Throwable cause = e.getCause();
            if (cause instanceof ConfigException config) {
                // Checks in the config records already name their key; a top-level one has no path.
                String path = path(e);
                String message = config.getMessage();
                throw new ConfigException(path.isEmpty() || message.startsWith(path) ? message : path + ": " + message,
                        config);
            }
            throw new ConfigException("invalid configuration at '" + path(e) + "': " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new ConfigException("invalid YAML: " + e.getMessage(), e);
        }
    }

    private static String path(JsonMappingException e) {
        StringBuilder sb = new StringBuilder();
        for (JsonMappingException.Reference ref : e.getPath()) {
            if (ref.getFieldName() != null) {
                sb.append(sb.length() == 0 ? "" : ".").append(ref.getFieldName());
            } else if (ref.getIndex() >= 0) {
                sb.append('[').append(ref.getIndex()).append(']');
            }
        }
        return sb.toString();
    }

    /** Expands environment references in every string value. */
    private JsonNode expand(JsonNode node) {
        if (node.isTextual()) {
            return TextNode.valueOf(expandText(node.asText()));
        }
        if (node.isObject()) {
            ObjectNode object = (ObjectNode) node;
            Iterator<Map.Entry<String, JsonNode>> fields = object.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> field = fields.next();
                field.setValue(expand(field.getValue()));
            }
        } else if (node.isArray()) {
            ArrayNode array = (ArrayNode) node;
            for (int i = 0; i < array.size(); i++) {
                array.set(i, expand(array.get(i)));
            }
        }
        return node;
    }

    /**
     * Replaces every {@code <secret>-file: PATH} by {@code <secret>: <content of PATH>}. Runs after
     * the environment expansion (so a path may use {@code ${CREDENTIALS_DIRECTORY}}); the content
     * itself is taken literally. Errors name the key, never the secret.
     */
    private static JsonNode readSecretFiles(JsonNode node, String path) {
        if (node.isObject()) {
            ObjectNode object = (ObjectNode) node;
            for (String key : SECRET_KEYS) {
                JsonNode file = object.remove(key + FILE_SUFFIX);
                if (file == null) {
                    continue;
                }
                String where = (path.isEmpty() ? "" : path + ".") + key + FILE_SUFFIX;
                if (object.has(key)) {
                    throw new ConfigException(where + ": give either " + key + " or " + key + FILE_SUFFIX + ", not both");
                }
                if (!file.isTextual() || file.asText().isBlank()) {
                    throw new ConfigException(where + ": expected the path of a file");
                }
                object.put(key, readSecret(where, Path.of(file.asText())));
            }
            Iterator<Map.Entry<String, JsonNode>> fields = object.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> field = fields.next();
                readSecretFiles(field.getValue(), (path.isEmpty() ? "" : path + ".") + field.getKey());
            }
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                readSecretFiles(node.get(i), path + "[" + i + "]");
            }
        }
        return node;
    }

    private static String readSecret(String key, Path file) {
        String content;
        try {
            content = Files.readString(file);
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new ConfigException(key + ": cannot read " + file + " (" + e.getClass().getSimpleName() + ")", e);
        }
        // As for a secret written with echo or a Kubernetes/Docker secret: one trailing newline is not part of it.
        if (content.endsWith("\r\n")) {
            return content.substring(0, content.length() - 2);
        }
        return content.endsWith("\n") ? content.substring(0, content.length() - 1) : content;
    }

    String expandText(String text) {
        Matcher matcher = ENV.matcher(text);
        StringBuilder sb = new StringBuilder();
        while (matcher.find()) {
            String value = environment.apply(matcher.group(1));
            if (value == null || (value.isEmpty() && matcher.group(2) != null)) {
                value = matcher.group(2);
            }
            if (value == null) {
                throw new ConfigException("environment variable " + matcher.group(1) + " is not set");
            }
            matcher.appendReplacement(sb, Matcher.quoteReplacement(value));
        }
        matcher.appendTail(sb);
        return sb.toString();
    }

    public static Duration parseDuration(String text) {
        Matcher m = DURATION.matcher(text.trim());
        if (!m.matches()) {
            throw new ConfigException("invalid duration '" + text + "' (examples: 500ms, 10s, 5m)");
        }
        double amount = Double.parseDouble(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2);
        double nanos = switch (unit) {
            case "us" -> amount * 1e3;
            case "ms" -> amount * 1e6;
            case "s" -> amount * 1e9;
            case "m" -> amount * 60e9;
            case "h" -> amount * 3600e9;
            default -> amount * 86400e9;
        };
        return Duration.ofNanos((long) nanos);
    }

    public static Long parseSize(String text) {
        Matcher m = SIZE.matcher(text.trim());
        if (!m.matches()) {
            throw new ConfigException("invalid size '" + text + "' (examples: 65536, 64kB, 64MB)");
        }
        long value = Long.parseLong(m.group(1));
        return switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "k" -> value * 1024;
            case "m" -> value * 1024 * 1024;
            case "g" -> value * 1024 * 1024 * 1024;
            default -> value;
        };
    }

    static <E extends Enum<E>> E enumValue(Class<E> type, String text) {
        String normalized = text.trim().toUpperCase(Locale.ROOT).replace('-', '_');
        for (E constant : type.getEnumConstants()) {
            if (constant.name().equals(normalized)) {
                return constant;
            }
        }
        StringBuilder allowed = new StringBuilder();
        for (E constant : type.getEnumConstants()) {
            allowed.append(allowed.length() == 0 ? "" : " | ")
                    .append(constant.name().toLowerCase(Locale.ROOT).replace('_', '-'));
        }
        throw new ConfigException("'" + text + "' is not one of " + allowed);
    }

    /**
     * {@code tls.mode}: libpq's verify-ca and verify-full are checks a client makes of a server,
     * so they exist for {@code backend.tls} only; said plainly rather than as an unknown value.
     */
    static TlsMode clientTlsMode(String text) {
        BackendTlsMode backendMode;
        try {
            backendMode = enumValue(BackendTlsMode.class, text);
        } catch (ConfigException notAnSslMode) {
            return enumValue(TlsMode.class, text);
        }
        if (backendMode.verifiesCertificate()) {
            throw new ConfigException("'" + text + "' verifies a server's certificate and is a backend.tls mode; "
                    + "toward clients tls.mode is disable | prefer | require, and clients verify pgrelay's certificate "
                    + "with their own sslmode");
        }
        return enumValue(TlsMode.class, text);
    }

    private static <T> JsonDeserializer<T> from(Function<String, T> parser) {
        return new JsonDeserializer<>() {
            @Override
            public T deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
                if (!p.currentToken().isScalarValue()) {
                    throw new ConfigException("expected a single value, got " + p.currentToken());
                }
                return parser.apply(p.getText());
            }
        };
    }
}
