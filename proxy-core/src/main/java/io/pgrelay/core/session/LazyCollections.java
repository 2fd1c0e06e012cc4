package io.pgrelay.core.session;

import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Per-session maps and sets that most sessions never fill (prepared statements, portals,
 * LISTEN channels...): they start as the shared empty instance, which reads, removes and
 * clears like an empty one, and become a real one at the first insertion. Thousands of idle
 * clients then hold none of their own.
 */
final class LazyCollections {
    private LazyCollections() {
    }

    /** {@code map} itself when it can take an insertion, else a new empty map to put into. */
    static <K, V> Map<K, V> writable(Map<K, V> map) {
        return map == Collections.<K, V>emptyMap() ? new HashMap<>() : map;
    }

    /** {@code set} itself when it can take an insertion, else a new empty set to add to. */
    static <T> Set<T> writable(Set<T> set) {
        return set == Collections.<T>emptySet() ? new HashSet<>() : set;
    }
}
