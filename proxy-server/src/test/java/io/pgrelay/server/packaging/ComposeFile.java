package io.pgrelay.server.packaging;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Compose file as Compose reads it: YAML with anchors and merge keys (SnakeYAML resolves both),
 * then {@code ${VAR}}, {@code ${VAR:-default}}, {@code ${VAR-default}} and {@code $$} interpolated
 * from the caller's environment, as the Compose specification's interpolation section describes.
 */
final class ComposeFile {
    private static final Pattern VARIABLE =
            Pattern.compile("\\$(?:\\$|\\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?}|([A-Za-z_][A-Za-z0-9_]*))");

    private final Path file;
    private final Map<String, Object> root;

    private ComposeFile(Path file, Map<String, Object> root) {
        this.file = file;
        this.root = root;
    }

    static ComposeFile read(Path file, Function<String, String> environment) throws IOException {
        Object tree = new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(file));
        if (!(tree instanceof Map<?, ?>)) {
            throw new IllegalArgumentException(file + ": not a YAML mapping");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> root = (Map<String, Object>) interpolate(tree, environment);
        return new ComposeFile(file, root);
    }

    Path directory() {
        return file.getParent();
    }

    Map<String, Object> services() {
        return map(root.get("services"), "services");
    }

    Service service(String name) {
        Object service = services().get(name);
        if (service == null) {
            throw new AssertionError(file + " has no service " + name + "; it has " + services().keySet());
        }
        return new Service(name, map(service, "services." + name));
    }

    /** One service's settings, in the shapes the tests compare. */
    record Service(String name, Map<String, Object> settings) {
        Optional<String> string(String key) {
            Object value = settings.get(key);
            return value == null ? Optional.empty() : Optional.of(String.valueOf(value));
        }

        /** {@code environment} in either of its forms (mapping or list of NAME=value). */
        Map<String, String> environment() {
            Object value = settings.get("environment");
            Map<String, String> env = new LinkedHashMap<>();
            if (value instanceof Map<?, ?> m) {
                m.forEach((k, v) -> env.put(String.valueOf(k), v == null ? "" : String.valueOf(v)));
            } else if (value instanceof List<?> l) {
                for (Object item : l) {
                    String[] kv = String.valueOf(item).split("=", 2);
                    env.put(kv[0], kv.length > 1 ? kv[1] : "");
                }
            }
            return env;
        }

        /** Short-syntax entries such as {@code volumes} or {@code ports}, as strings. */
        List<String> list(String key) {
            Object value = settings.get(key);
            List<String> items = new ArrayList<>();
            if (value instanceof List<?> l) {
                l.forEach(item -> items.add(String.valueOf(item)));
            }
            return items;
        }

        /** {@code entrypoint} or {@code command} as words (list form or a single string). */
        List<String> words(String key) {
            Object value = settings.get(key);
            if (value instanceof List<?> l) {
                return l.stream().map(String::valueOf).toList();
            }
            return value == null ? List.of() : List.of(String.valueOf(value).trim().split("\\s+"));
        }

        /** The services named under {@code depends_on} (list or long syntax), with their condition. */
        Map<String, String> dependsOn() {
            Object value = settings.get("depends_on");
            Map<String, String> deps = new LinkedHashMap<>();
            if (value instanceof List<?> l) {
                l.forEach(item -> deps.put(String.valueOf(item), "service_started"));
            } else if (value instanceof Map<?, ?> m) {
                m.forEach((k, v) -> deps.put(String.valueOf(k), v instanceof Map<?, ?> c && c.get("condition") != null
                        ? String.valueOf(c.get("condition")) : "service_started"));
            }
            return deps;
        }

        Map<String, Object> section(String key) {
            return map(settings.get(key), name + "." + key);
        }
    }

    private static Object interpolate(Object node, Function<String, String> environment) {
        if (node instanceof String text) {
            return interpolate(text, environment);
        }
        if (node instanceof Map<?, ?> m) {
            Map<String, Object> copy = new LinkedHashMap<>();
            m.forEach((k, v) -> copy.put(String.valueOf(k), interpolate(v, environment)));
            return copy;
        }
        if (node instanceof List<?> l) {
            return l.stream().map(item -> interpolate(item, environment)).toList();
        }
        return node;
    }

    static String interpolate(String text, Function<String, String> environment) {
        Matcher m = VARIABLE.matcher(text);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            String replacement;
            if (m.group().equals("$$")) {
                replacement = "$";
            } else {
                String name = m.group(1) != null ? m.group(1) : m.group(4);
                String value = environment.apply(name);
                String operator = m.group(2);
                boolean useDefault = operator != null
                        && (value == null || (operator.equals(":-") && value.isEmpty()));
                replacement = useDefault ? m.group(3) : value == null ? "" : value;
            }
            m.appendReplacement(sb, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(sb);
        return sb.toString();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object value, String what) {
        if (!(value instanceof Map<?, ?>)) {
            throw new AssertionError(what + " is not a mapping: " + value);
        }
        return (Map<String, Object>) value;
    }
}
