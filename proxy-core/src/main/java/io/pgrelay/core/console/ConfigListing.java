package io.pgrelay.core.console;

import io.pgrelay.core.config.ConfigKeys;
import io.pgrelay.core.config.HostPort;
import io.pgrelay.core.config.ProxyConfig;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The effective configuration as flat {@code key → value} pairs with the YAML key names
 * ({@code pool.max-size}, {@code nodes.pg1.port}). Walks the config records, so a new key
 * shows up without changes here. Values of keys that hold secrets are masked.
 */
final class ConfigListing {
    static final String MASK = "********";

    private ConfigListing() {
    }

    static Map<String, String> of(ProxyConfig config) {
        Map<String, String> out = new LinkedHashMap<>();
        walk("", config, out);
        return out;
    }

    private static void walk(String key, Object value, Map<String, String> out) {
        if (value instanceof Record record && !(value instanceof HostPort)) {
            for (RecordComponent component : record.getClass().getRecordComponents()) {
                String childKey = (key.isEmpty() ? "" : key + ".") + ConfigKeys.kebab(component.getName());
                Object child = read(component, record);
                if (isSecret(component.getName())) {
                    out.put(childKey, child == null ? null : String.valueOf(child).isEmpty() ? "" : MASK);
                } else {
                    walk(childKey, child, out);
                }
            }
        } else if (value instanceof List<?> list && !list.isEmpty() && list.get(0) instanceof Record) {
            for (int i = 0; i < list.size(); i++) {
                walk(key + "." + itemName(list.get(i), i), list.get(i), out);
            }
        } else {
            out.put(key, format(value));
        }
    }

    private static String itemName(Object item, int index) {
        for (RecordComponent component : item.getClass().getRecordComponents()) {
            if (component.getName().equals("name")) {
                return String.valueOf(read(component, item));
            }
        }
        return String.valueOf(index);
    }

    private static Object read(RecordComponent component, Object record) {
        try {
            return component.getAccessor().invoke(record);
        } catch (IllegalAccessException | InvocationTargetException e) {
            throw new IllegalStateException("cannot read config key " + component.getName(), e);
        }
    }

    private static boolean isSecret(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        return lower.contains("password") || lower.contains("token") || lower.contains("secret");
    }

    private static String format(Object value) {
        if (value == null) {
            return null;
        }
        if (value instanceof Duration duration) {
            long millis = duration.toMillis();
            if (millis % 60_000 == 0 && millis > 0) {
                return millis / 60_000 + "min";
            }
            if (millis % 1000 == 0 && millis > 0) {
                return millis / 1000 + "s";
            }
            return millis + "ms";
        }
        if (value instanceof Enum<?> e) {
            return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
        if (value instanceof HostPort hostPort) {
            return hostPort.host() + ":" + hostPort.port();
        }
        if (value instanceof List<?> list) {
            StringBuilder sb = new StringBuilder("[");
            for (int i = 0; i < list.size(); i++) {
                sb.append(i == 0 ? "" : ", ").append(list.get(i));
            }
            return sb.append(']').toString();
        }
        return String.valueOf(value);
    }
}
