package io.pgrelay.testkit;

import java.sql.Statement;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static io.pgrelay.testkit.LocalNode.queryString;
import static io.pgrelay.testkit.LocalNode.sleep;
import static io.pgrelay.testkit.LocalNode.sqlLiteral;

/**
 * A running node's settings changed through {@code ALTER SYSTEM}, and the reload that applies
 * them. Remembers the keys it set, so that {@link LocalCluster#resetToInitialTopology()} can undo them.
 */
final class NodeSettings {
    private static final Logger log = LoggerFactory.getLogger(NodeSettings.class);
    private static final Pattern CONF_KEY = Pattern.compile("[A-Za-z_][A-Za-z0-9_.]*");

    private final LocalNode node;
    private final Set<String> overrides = ConcurrentHashMap.newKeySet();

    NodeSettings(LocalNode node) {
        this.node = node;
    }

    /** {@code ALTER SYSTEM SET key = 'value'} plus reload; warns when the setting needs a restart. */
    void set(String key, String value) {
        requireConfKey(key);
        String context = node.withAdmin("ALTER SYSTEM SET " + key, c -> {
            try (Statement st = c.createStatement()) {
                st.execute("ALTER SYSTEM SET " + key + " = " + sqlLiteral(value));
            }
            return queryString(c, "SELECT context FROM pg_settings WHERE name = lower(?)", key);
        });
        overrides.add(key);
        reloadAndWait();
        if ("postmaster".equals(context)) {
            log.warn("{}: {} = {} takes effect only after restart()", node.name(), key, value);
        } else {
            log.info("{}: {} = {}", node.name(), key, value);
        }
    }

    /** {@code ALTER SYSTEM RESET key} plus reload. */
    void reset(String key) {
        requireConfKey(key);
        node.withAdmin("ALTER SYSTEM RESET " + key, c -> {
            try (Statement st = c.createStatement()) {
                st.execute("ALTER SYSTEM RESET " + key);
            }
            return null;
        });
        overrides.remove(key);
        reloadAndWait();
        log.info("{}: {} reset", node.name(), key);
    }

    /** Keys changed through {@link #set}. */
    Set<String> overrides() {
        return Set.copyOf(overrides);
    }

    /** After a rebuild: the new data directory holds none of the old overrides. */
    void forgetOverrides() {
        overrides.clear();
    }

    private static void requireConfKey(String key) {
        if (key == null || !CONF_KEY.matcher(key).matches()) {
            throw new IllegalArgumentException("not a configuration parameter name: " + key);
        }
    }

    /** pg_reload_conf(), then waits until a new session's pg_conf_load_time() moved on. */
    void reloadAndWait() {
        String before = node.withAdmin("pg_reload_conf()", c -> {
            String t = queryString(c, "SELECT pg_conf_load_time()::text");
            queryString(c, "SELECT pg_reload_conf()");
            return t;
        });
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            boolean reloaded = node.withAdmin("pg_conf_load_time()",
                    c -> "t".equals(queryString(c, "SELECT pg_conf_load_time() > ?::timestamptz", before)));
            if (reloaded) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new LocalClusterException(node.name() + ": configuration reload not observed within 10 s"
                        + node.logTailForMessage());
            }
            sleep(10);
        }
    }
}
