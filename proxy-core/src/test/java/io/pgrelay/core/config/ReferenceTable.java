package io.pgrelay.core.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The README's configuration reference: the first table under its heading, one row per key,
 * {@code | `key` | default | reload | meaning |}. Map entries may name their key as they like
 * ({@code log-levels.<logger>}); they are read as {@code log-levels.<>}.
 */
final class ReferenceTable {
    static final String HEADING = "## Configuration reference";
    private static final Pattern CODE = Pattern.compile("^`([^`]+)`");
    private static final Pattern PLACEHOLDER = Pattern.compile("<[^>]*>");

    /** One row: its key (placeholders normalized), default cell, reload cell, and the line for messages. */
    record Row(String key, String defaultCell, String reload, String line) {
        /** The default as written: the first code span, or the first word (— or required). */
        String defaultValue() {
            Matcher code = CODE.matcher(defaultCell);
            if (code.find()) {
                return code.group(1);
            }
            int end = defaultCell.indexOf(' ');
            return end < 0 ? defaultCell : defaultCell.substring(0, end);
        }
    }

    private final Map<String, Row> rows;
    private final List<String> malformed;

    private ReferenceTable(Map<String, Row> rows, List<String> malformed) {
        this.rows = rows;
        this.malformed = malformed;
    }

    static ReferenceTable parse(String readme) {
        int start = readme.indexOf("\n" + HEADING + "\n");
        if (start < 0) {
            throw new IllegalArgumentException("README.md has no '" + HEADING + "' section");
        }
        Map<String, Row> rows = new LinkedHashMap<>();
        List<String> malformed = new ArrayList<>();
        boolean inTable = false;
        for (String line : readme.substring(start + HEADING.length() + 2).split("\n", -1)) {
            if (line.startsWith("## ")) {
                break;
            }
            if (!line.startsWith("|")) {
                if (inTable) {
                    break;
                }
                continue;
            }
            boolean header = !inTable;
            inTable = true;
            if (header || line.startsWith("|---")) {
                continue;
            }
            String[] cells = line.split("(?<!\\\\)\\|", -1);
            Matcher key = cells.length >= 5 ? CODE.matcher(cells[1].trim()) : null;
            if (key == null || !key.find() || !key.group(0).equals(cells[1].trim())) {
                malformed.add(line);
                continue;
            }
            String name = PLACEHOLDER.matcher(key.group(1)).replaceAll(ConfigKeyTree.MAP_ENTRY);
            if (rows.put(name, new Row(name, cells[2].trim(), cells[3].trim(), line)) != null) {
                malformed.add("duplicate row: " + line);
            }
        }
        return new ReferenceTable(rows, malformed);
    }

    Map<String, Row> rows() {
        return rows;
    }

    /** Rows whose first cell is not exactly one backquoted key, or that have too few cells. */
    List<String> malformed() {
        return malformed;
    }
}
