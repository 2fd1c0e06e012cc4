package io.pgrelay.core.session;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The settings a client asked for at startup, as the session replays them on every backend, in
 * the order the client sent them. Clients of one application send the same few, so sessions
 * share one read-only map per distinct set (an idle client then holds none of its own).
 */
final class StartupSettings {
    /** Maps sessions share, by their entries in order; bounded, since only a few distinct ones are expected. */
    private static final Map<List<String>, Map<String, String>> SHARED = new ConcurrentHashMap<>();
    private static final int MAX_SHARED = 256;

    private StartupSettings() {
    }

    /**
     * {@code requested} as the session keeps it: a client that sends no application_name sees the
     * server's default (empty), not the name pgrelay's own connections carry. Read-only.
     */
    static Map<String, String> of(Map<String, String> requested) {
        Map<String, String> settings = new LinkedHashMap<>(requested);
        if (settings.keySet().stream().noneMatch("application_name"::equalsIgnoreCase)) {
            settings.put("application_name", "");
        }
        List<String> key = new ArrayList<>(settings.size() * 2);
        settings.forEach((name, value) -> {
            key.add(name);
            key.add(value);
        });
        Map<String, String> canonical = SHARED.get(key);
        if (canonical != null) {
            return canonical;
        }
        if (SHARED.size() >= MAX_SHARED) {
            SHARED.clear();
        }
        Map<String, String> readOnly = Collections.unmodifiableMap(settings);
        canonical = SHARED.putIfAbsent(key, readOnly);
        return canonical != null ? canonical : readOnly;
    }
}
