package io.pgrelay.core.session;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a client was told of the server's parameters (ParameterStatus), with case-insensitive
 * names. Most sessions are told the same dozen values, so after login the map is shared with
 * every session told the same (about 1.4 KB less per idle client), and copied only when the
 * session's own values change. Confined to the session's event loop; a shared map is never
 * written.
 */
final class ClientParameters {
    /** Maps sessions share, by content; bounded, since only a few distinct ones are expected. */
    private static final Map<TreeMap<String, String>, TreeMap<String, String>> SHARED = new ConcurrentHashMap<>();
    private static final int MAX_SHARED = 256;

    private TreeMap<String, String> values = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    private boolean shared;
    /** The two values every statement consults, kept decoded: a map lookup per statement is not free. */
    private boolean standardConformingStrings = true;
    private boolean defaultTransactionReadOnly;

    String get(String name) {
        return values.get(name);
    }

    void put(String name, String value) {
        if (value.equals(values.get(name))) {
            return;
        }
        if (shared) {
            values = new TreeMap<>(values);
            shared = false;
        }
        values.put(name, value);
        if (name.equalsIgnoreCase("standard_conforming_strings")) {
            standardConformingStrings = !"off".equalsIgnoreCase(value);
        } else if (name.equalsIgnoreCase("default_transaction_read_only")) {
            defaultTransactionReadOnly = "on".equalsIgnoreCase(value);
        }
    }

    /** What the client was told of standard_conforming_strings: on unless told off. */
    boolean standardConformingStrings() {
        return standardConformingStrings;
    }

    boolean defaultTransactionReadOnly() {
        return defaultTransactionReadOnly;
    }

    /** The login told the client everything: from now on it shares the map of sessions told the same. */
    void share() {
        if (shared) {
            return;
        }
        TreeMap<String, String> canonical = SHARED.get(values);
        if (canonical == null) {
            if (SHARED.size() >= MAX_SHARED) {
                SHARED.clear();
            }
            canonical = SHARED.putIfAbsent(values, values);
            if (canonical == null) {
                canonical = values;
            }
        }
        values = canonical;
        shared = true;
    }
}
