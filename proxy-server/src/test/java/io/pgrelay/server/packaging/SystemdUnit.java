package io.pgrelay.server.packaging;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A systemd unit file as {@code [Section] Key=value} entries (a key may repeat, as Environment= does). */
record SystemdUnit(Map<String, Map<String, List<String>>> sections) {

    static SystemdUnit read(Path file) throws IOException {
        Map<String, Map<String, List<String>>> sections = new LinkedHashMap<>();
        Map<String, List<String>> section = null;
        StringBuilder continued = new StringBuilder();
        for (String line : Files.readAllLines(file)) {
            String trimmed = line.strip();
            if (continued.length() == 0 && (trimmed.isEmpty() || trimmed.startsWith("#") || trimmed.startsWith(";"))) {
                continue;
            }
            if (trimmed.endsWith("\\")) {
                continued.append(trimmed, 0, trimmed.length() - 1).append(' ');
                continue;
            }
            String entry = continued.append(trimmed).toString();
            continued.setLength(0);
            if (entry.startsWith("[") && entry.endsWith("]")) {
                section = sections.computeIfAbsent(entry.substring(1, entry.length() - 1), s -> new LinkedHashMap<>());
                continue;
            }
            int equals = entry.indexOf('=');
            if (section == null || equals <= 0) {
                throw new IllegalArgumentException(file + ": not a unit file entry: " + entry);
            }
            section.computeIfAbsent(entry.substring(0, equals).strip(), k -> new ArrayList<>())
                    .add(entry.substring(equals + 1).strip());
        }
        return new SystemdUnit(sections);
    }

    /** The value of a key given once; fails if it is absent. */
    String value(String section, String key) {
        List<String> values = values(section, key);
        if (values.isEmpty()) {
            throw new AssertionError("[" + section + "] " + key + "= is not set");
        }
        return values.get(values.size() - 1);
    }

    List<String> values(String section, String key) {
        return sections.getOrDefault(section, Map.of()).getOrDefault(key, List.of());
    }
}
