package io.pgrelay.core.reload;

import io.pgrelay.core.config.ProxyConfig.UserConfig;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The outcome of a configuration reload that was accepted: what now runs with the new values,
 * and the changed keys that keep their running value until a restart. A file that is invalid
 * is refused with a {@link io.pgrelay.core.config.ConfigException} instead and changes nothing.
 *
 * @param applied         reloadable keys whose change took effect, with what changed
 * @param restartRequired changed keys that keep their running value until a restart
 */
public record ReloadReport(List<Applied> applied, List<String> restartRequired) {
    private static final Applied CLIENT_TLS =
            new Applied("tls", "certificate and key re-read; new TLS handshakes use them");
    private static final Applied BACKEND_TLS = new Applied("backend.tls",
            "mode, CA, certificate and key re-read; new backend connections use them, open ones are kept");

    /** One key that took its new value; {@code change} says how, without secrets. */
    public record Applied(String key, String change) {
    }

    public ReloadReport {
        applied = List.copyOf(applied);
        restartRequired = List.copyOf(restartRequired);
    }

    /**
     * The report of a reload: {@code changes} between the running and the new file,
     * {@code nodes} as they were applied, {@code tlsFilesChanged} / {@code backendTlsFilesChanged}
     * when the content of the client-side certificate and key / the backend CA, certificate and
     * key changed (their paths may be the same).
     */
    public static ReloadReport of(List<ConfigChanges.Change> changes, NodeChanges nodes, boolean tlsFilesChanged,
                                  boolean backendTlsFilesChanged) {
        List<Applied> applied = new ArrayList<>();
        List<String> restart = new ArrayList<>();
        for (ConfigChanges.Change change : changes) {
            if (!change.reloadable()) {
                restart.add(change.key());
            } else if (change.key().startsWith("tls.")) {
                addOnce(applied, CLIENT_TLS);
            } else if (change.key().startsWith("backend.tls")) {
                addOnce(applied, BACKEND_TLS);
            } else {
                applied.add(new Applied(change.key(), describe(change, nodes)));
            }
        }
        if (tlsFilesChanged) {
            addOnce(applied, CLIENT_TLS);
        }
        if (backendTlsFilesChanged) {
            addOnce(applied, BACKEND_TLS);
        }
        return new ReloadReport(applied, restart);
    }

    /** The TLS keys are reported as one entry each side: the files are re-read together. */
    private static void addOnce(List<Applied> applied, Applied entry) {
        if (!applied.contains(entry)) {
            applied.add(entry);
        }
    }

    /** Without backend TLS files. */
    public static ReloadReport of(List<ConfigChanges.Change> changes, NodeChanges nodes, boolean tlsFilesChanged) {
        return of(changes, nodes, tlsFilesChanged, false);
    }

    private static String describe(ConfigChanges.Change change, NodeChanges nodes) {
        if (change.key().equals("nodes")) {
            return nodes.describe();
        }
        if (change.key().equals("auth.users")) {
            return users(change.running(), change.next());
        }
        return format(change.running()) + " -> " + format(change.next());
    }

    /** Names only: a changed password shows as a changed user. */
    @SuppressWarnings("unchecked")
    private static String users(Object running, Object next) {
        Map<String, UserConfig> before = new LinkedHashMap<>();
        for (UserConfig user : (List<UserConfig>) running) {
            before.put(user.name(), user);
        }
        List<String> parts = new ArrayList<>();
        for (UserConfig user : (List<UserConfig>) next) {
            UserConfig old = before.remove(user.name());
            if (old == null) {
                parts.add("added " + user.name());
            } else if (!Objects.equals(old, user)) {
                parts.add("changed " + user.name());
            }
        }
        for (String name : before.keySet()) {
            parts.add("removed " + name);
        }
        return String.join(", ", parts);
    }

    private static String format(Object value) {
        if (value instanceof Duration duration) {
            long millis = duration.toMillis();
            return millis % 1000 == 0 ? millis / 1000 + "s" : millis + "ms";
        }
        return String.valueOf(value);
    }

    public boolean changedNothing() {
        return applied.isEmpty() && restartRequired.isEmpty();
    }

    /** One line for the log: {@code applied: routing.max-replica-lag (10s -> 2s); restart required: listen}. */
    public String summary() {
        if (changedNothing()) {
            return "no changes";
        }
        StringBuilder sb = new StringBuilder();
        if (!applied.isEmpty()) {
            sb.append("applied: ");
            for (int i = 0; i < applied.size(); i++) {
                sb.append(i == 0 ? "" : ", ").append(applied.get(i).key()).append(" (").append(applied.get(i).change())
                        .append(')');
            }
        }
        if (!restartRequired.isEmpty()) {
            sb.append(sb.length() == 0 ? "" : "; ").append("restart required: ")
                    .append(String.join(", ", restartRequired));
        }
        return sb.toString();
    }
}
