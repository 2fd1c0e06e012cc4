package io.pgrelay.core.config;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Every leaf key of the YAML file, found by walking the {@link ProxyConfig} record tree as the
 * loader reads it: nested records are sections ({@code pool.max-size}), a list of records is
 * {@code nodes[].weight}, a map's entries are {@code log-levels.<…>}; HostPort, scalars and lists
 * of scalars are one value each. Each key comes with its default, read from the records'
 * canonical constructors, and the key a reload compares it under (lists and maps count whole).
 */
final class ConfigKeyTree {
    /** The keys ConfigLoader lets a file supply ({@code <key>-file}: its SECRET_KEYS). */
    static final Set<String> SECRET_KEYS = Set.of("password", "backend-password", "token");
    static final String FILE_SUFFIX = "-file";
    /** Written in a default cell for a key that has to be given. */
    static final String REQUIRED = "required";
    static final String NONE = "—";
    /** A map entry's key in a path: {@code log-levels.<logger>} in README is {@code log-levels.<>}. */
    static final String MAP_ENTRY = "<>";

    /**
     * One leaf key.
     *
     * @param path        the dotted kebab path, {@code []} for list elements, {@code <>} for map entries
     * @param reloadKey   the key a reload's change list names when this one changes
     * @param defaultText the default as the README writes it ({@link #NONE}, {@link #REQUIRED})
     */
    record ConfigKey(String path, String reloadKey, String defaultText) {
    }

    private ConfigKeyTree() {
    }

    static List<ConfigKey> keys() {
        List<ConfigKey> keys = new ArrayList<>();
        walk(ProxyConfig.class, defaults(ProxyConfig.class), "", null, keys);
        return keys;
    }

    private static void walk(Class<?> type, Defaults defaults, String prefix, String reloadKey, List<ConfigKey> out) {
        for (RecordComponent component : type.getRecordComponents()) {
            String name = ConfigKeys.kebab(component.getName());
            String path = prefix + name;
            String reload = reloadKey != null ? reloadKey : path;
            Object value = defaults.value(component);
            Class<?> record = sectionType(component);
            if (record != null && component.getType() == List.class) {
                walk(record, defaults(record), path + "[].", reload, out);
            } else if (record != null) {
                // A section's keys are compared one by one; inside a list they count with it. An
                // optional section (absent by default, as coordination) has the defaults it takes when given.
                walk(record, value != null ? new Defaults(value, Set.of()) : defaults(record), path + ".", reloadKey, out);
            } else if (component.getType() == Map.class) {
                out.add(new ConfigKey(path + "." + MAP_ENTRY, reload, NONE));
            } else {
                out.add(new ConfigKey(path, reload, defaults.required(component) ? REQUIRED : format(value)));
                if (SECRET_KEYS.contains(name)) {
                    out.add(new ConfigKey(path + FILE_SUFFIX, reload, NONE));
                }
            }
        }
    }

    /** The record type of a section or of a list's elements; null for a value. */
    private static Class<?> sectionType(RecordComponent component) {
        Class<?> type = component.getType();
        if (type == List.class && component.getGenericType() instanceof ParameterizedType list) {
            Type element = list.getActualTypeArguments()[0];
            type = element instanceof Class<?> c ? c : Object.class;
        }
        return type.isRecord() && type != HostPort.class ? type : null;
    }

    /** A record built from defaults, and which of its components had to be given to build it. */
    private record Defaults(Object instance, Set<String> required) {
        Object value(RecordComponent component) {
            try {
                return component.getAccessor().invoke(instance);
            } catch (IllegalAccessException | InvocationTargetException e) {
                throw new IllegalStateException("cannot read " + component, e);
            }
        }

        boolean required(RecordComponent component) {
            return required.contains(component.getName());
        }
    }

    /**
     * Builds {@code type} with every component absent, as from an empty YAML mapping; a list of
     * records gets one default element (ProxyConfig needs a node). Where the constructor refuses
     * the absence, the String and string-list components are given a {@link #sample} one by one,
     * in order, and count as required.
     */
    private static Defaults defaults(Class<?> type) {
        RecordComponent[] components = type.getRecordComponents();
        Object[] args = new Object[components.length];
        Class<?>[] types = new Class<?>[components.length];
        for (int i = 0; i < components.length; i++) {
            types[i] = components[i].getType();
            Class<?> element = sectionType(components[i]);
            if (element != null && types[i] == List.class) {
                args[i] = List.of(defaults(element).instance());
            }
        }
        Set<String> required = new java.util.LinkedHashSet<>();
        for (int next = 0; ; next++) {
            try {
                Constructor<?> canonical = type.getDeclaredConstructor(types);
                return new Defaults(canonical.newInstance(args), Set.copyOf(required));
            } catch (InvocationTargetException e) {
                if (!(e.getCause() instanceof ConfigException)) {
                    throw new IllegalStateException("cannot build " + type.getSimpleName(), e.getCause());
                }
                while (next < components.length && (sample(components[next]) == null || args[next] != null)) {
                    next++;
                }
                if (next == components.length) {
                    throw new IllegalStateException("cannot build " + type.getSimpleName() + " from defaults",
                            e.getCause());
                }
                args[next] = sample(components[next]);
                required.add(components[next].getName());
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("cannot build " + type.getSimpleName(), e);
            }
        }
    }

    /**
     * A value for a component that has to be given, one that passes the records' checks: a name
     * or absolute key path for a String, one URL for a list of strings; null for other types.
     */
    private static Object sample(RecordComponent component) {
        if (component.getType() == String.class) {
            return "/x";
        }
        if (component.getType() == List.class && component.getGenericType() instanceof ParameterizedType list
                && list.getActualTypeArguments()[0] == String.class) {
            return List.of("http://127.0.0.1:2379");
        }
        return null;
    }

    /** A default written as the YAML file would write it. */
    static String format(Object value) {
        if (value == null) {
            return NONE;
        }
        if (value instanceof String s) {
            return s.isEmpty() ? "\"\"" : s;
        }
        if (value instanceof Duration d) {
            return formatDuration(d);
        }
        if (value instanceof Long size) {
            return formatSize(size);
        }
        if (value instanceof Enum<?> e) {
            return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
        if (value instanceof HostPort hostPort) {
            return hostPort.host() + ":" + hostPort.port();
        }
        if (value instanceof List<?> list && list.isEmpty()) {
            return "[]";
        }
        if (value instanceof Map<?, ?> map && map.isEmpty()) {
            return "{}";
        }
        return String.valueOf(value);
    }

    private static String formatDuration(Duration d) {
        long millis = d.toMillis();
        if (millis == 0) {
            return "0";
        }
        if (millis % 60_000 == 0) {
            return millis / 60_000 + "m";
        }
        return millis % 1000 == 0 ? millis / 1000 + "s" : millis + "ms";
    }

    /** Every Long in the configuration is a size (ConfigLoader parses them with parseSize). */
    private static String formatSize(long bytes) {
        if (bytes > 0 && bytes % (1024 * 1024) == 0) {
            return bytes / (1024 * 1024) + "MB";
        }
        return bytes > 0 && bytes % 1024 == 0 ? bytes / 1024 + "kB" : String.valueOf(bytes);
    }
}
