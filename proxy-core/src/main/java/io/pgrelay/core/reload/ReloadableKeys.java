package io.pgrelay.core.reload;

import java.util.List;

/**
 * The configuration keys a reload applies to the running proxy; every other key needs a
 * restart. A key names itself and everything under it ({@code routing} covers
 * {@code routing.max-replica-lag}). What each one changes is documented in docs/operations.md.
 */
public final class ReloadableKeys {
    /** In the order the reload report lists them. */
    public static final List<String> KEYS = List.of(
            "auth",                     // users, passwords, methods: new logins
            "routing",                  // new sessions route, classify and balance with it
            "max-client-connections",   // checked at each new connection
            "limits",                   // new clients; the connection counts carry over
            "nodes",                    // added, removed, re-addressed, re-weighted
            "tls.cert", "tls.key",      // new TLS handshakes use the new certificate
            "backend.tls", "backend.tls-ca", "backend.tls-cert", "backend.tls-key", // new backend connections
            "log-levels");              // logback levels, at once

    private ReloadableKeys() {
    }

    /** Whether a change of {@code key} (a dotted YAML path) takes effect without a restart. */
    public static boolean reloadable(String key) {
        for (String prefix : KEYS) {
            if (key.equals(prefix) || key.startsWith(prefix + ".")) {
                return true;
            }
        }
        return false;
    }
}
