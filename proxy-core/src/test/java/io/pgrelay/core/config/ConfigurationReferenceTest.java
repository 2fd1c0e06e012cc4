package io.pgrelay.core.config;

import io.pgrelay.core.reload.ReloadableKeys;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The README's configuration reference is the configuration: one row per leaf key of the
 * {@link ProxyConfig} records, no row for a key that does not exist, each row's default the one
 * the records set and its reload column what {@link ReloadableKeys} decides. A key added to the
 * records fails here until the README documents it.
 */
class ConfigurationReferenceTest {
    /** The README from the module directory, where surefire runs. */
    private static final Path README = Path.of("..", "README.md");

    private static Map<String, ConfigKeyTree.ConfigKey> keys;
    private static ReferenceTable table;

    @BeforeAll
    static void read() throws IOException {
        assertThat(README).as("README.md (looked for at %s)", README.toAbsolutePath().normalize()).isRegularFile();
        table = ReferenceTable.parse(Files.readString(README));
        keys = new LinkedHashMap<>();
        for (ConfigKeyTree.ConfigKey key : ConfigKeyTree.keys()) {
            keys.put(key.path(), key);
        }
    }

    @Test
    void theWalkFindsTheKeysOfEverySection() {
        // Guards the guard: a walk that stopped early would leave both lists short alike.
        assertThat(keys).containsKeys("listen", "pool.max-size", "backend.query-timeout", "nodes[].weight",
                "auth.users[].password-file", "monitor.ban-time", "routing.consistency", "failover.client-wait",
                "limits.users.<>", "log-levels.<>");
        assertThat(keys.get("nodes[].weight").reloadKey()).isEqualTo("nodes");
        assertThat(keys.get("auth.users[].password-file").reloadKey()).isEqualTo("auth.users");
        assertThat(keys.get("tls.cert").reloadKey()).isEqualTo("tls.cert");
        assertThat(keys.get("limits.users.<>").reloadKey()).isEqualTo("limits.users");
        assertThat(keys.get("nodes[].name").defaultText()).isEqualTo(ConfigKeyTree.REQUIRED);
        assertThat(keys.get("pool.idle-timeout").defaultText()).isEqualTo("5m");
        assertThat(keys.get("max-message-size").defaultText()).isEqualTo("64MB");
        assertThat(table.rows()).as("rows of the table under '%s'", ReferenceTable.HEADING).hasSizeGreaterThan(50);
    }

    @Test
    void everyRowIsOneKeyWithDefaultReloadAndMeaning() {
        assertThat(table.malformed()).as("rows must read | `key` | default | yes or restart | meaning |").isEmpty();
    }

    @Test
    void everyKeyHasARow() {
        List<String> missing = new ArrayList<>(keys.keySet());
        missing.removeAll(table.rows().keySet());
        assertThat(missing).as("configuration keys missing from the README's configuration reference "
                + "(map entries are written name.<what>)").isEmpty();
    }

    @Test
    void everyRowIsAKey() {
        List<String> stale = new ArrayList<>(table.rows().keySet());
        stale.removeAll(keys.keySet());
        assertThat(stale).as("rows of the README's configuration reference that name no configuration key").isEmpty();
    }

    @Test
    void theReloadColumnIsWhatAReloadDoes() {
        List<String> wrong = new ArrayList<>();
        for (ReferenceTable.Row row : table.rows().values()) {
            ConfigKeyTree.ConfigKey key = keys.get(row.key());
            if (key == null) {
                continue;
            }
            String expected = ReloadableKeys.reloadable(key.reloadKey()) ? "yes" : "restart";
            if (!row.reload().equals(expected)) {
                wrong.add(row.key() + ": README says '" + row.reload() + "', ReloadableKeys says " + expected
                        + " (as " + key.reloadKey() + ")");
            }
        }
        assertThat(wrong).as("reload column").isEmpty();
    }

    @Test
    void theDefaultColumnIsWhatTheRecordsSet() {
        List<String> wrong = new ArrayList<>();
        for (ReferenceTable.Row row : table.rows().values()) {
            ConfigKeyTree.ConfigKey key = keys.get(row.key());
            if (key != null && !row.defaultValue().equals(key.defaultText())) {
                wrong.add(row.key() + ": README says '" + row.defaultValue() + "', the code sets "
                        + key.defaultText());
            }
        }
        assertThat(wrong).as("default column (a code span, or — for none, or required)").isEmpty();
    }
}
