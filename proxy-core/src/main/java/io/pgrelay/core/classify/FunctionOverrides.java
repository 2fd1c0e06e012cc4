package io.pgrelay.core.classify;

import java.util.Collection;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * {@code routing.write-functions} / {@code routing.read-only-functions}: names (optionally
 * schema-qualified, matched case-insensitively) whose catalog verdict is overridden. A qualified
 * entry matches only that schema; an unqualified one matches the name in any schema. Write
 * functions win over read-only ones.
 */
public final class FunctionOverrides {
    public static final FunctionOverrides NONE = new FunctionOverrides(java.util.List.of(), java.util.List.of());

    private final Map<String, Hazard> byName = new HashMap<>();

    public FunctionOverrides(Collection<String> writeFunctions, Collection<String> readOnlyFunctions) {
        for (String f : readOnlyFunctions) {
            byName.put(normalize(f), Hazard.NONE);
        }
        for (String f : writeFunctions) {
            byName.put(normalize(f), Hazard.WRITE);
        }
    }

    private static String normalize(String name) {
        String n = name.strip();
        if (n.endsWith("()")) {
            n = n.substring(0, n.length() - 2);
        }
        return n.toLowerCase(Locale.ROOT);
    }

    /** The override for {@code schema.name} (schema may be null), or null. */
    Hazard lookup(String schema, String name) {
        if (byName.isEmpty()) {
            return null;
        }
        if (schema != null) {
            Hazard h = byName.get(schema.toLowerCase(Locale.ROOT) + "." + name.toLowerCase(Locale.ROOT));
            if (h != null) {
                return h;
            }
        }
        Hazard h = byName.get(name.toLowerCase(Locale.ROOT));
        if (h != null || schema != null) {
            return h;
        }
        // unqualified call: a qualified write entry for this name counts (search_path is not tracked)
        for (Map.Entry<String, Hazard> e : byName.entrySet()) {
            if (e.getValue() == Hazard.WRITE && e.getKey().endsWith("." + name.toLowerCase(Locale.ROOT))) {
                return Hazard.WRITE;
            }
        }
        return null;
    }

    public boolean isEmpty() {
        return byName.isEmpty();
    }
}
