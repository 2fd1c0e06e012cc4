package io.pgrelay.core.session;

import io.pgrelay.protocol.PgProtocolException;
import io.pgrelay.protocol.SqlState;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The run-time settings a client asks for in its StartupMessage: plain parameters
 * (application_name, DateStyle, ...) and the {@code -c name=value} / {@code --name=value}
 * switches of the {@code options} parameter, split as the server does (whitespace
 * separates, backslash escapes). Settings named {@code pgrelay.*} are pgrelay's own.
 */
public final class StartupOptions {
    private static final List<String> NOT_SETTINGS = List.of("user", "database", "options", "replication");

    private final Map<String, String> settings;
    private final Map<String, String> proxySettings;

    private StartupOptions(Map<String, String> settings, Map<String, String> proxySettings) {
        this.settings = settings;
        this.proxySettings = proxySettings;
    }

    public static StartupOptions parse(Map<String, String> startupParameters) {
        Map<String, String> settings = new LinkedHashMap<>();
        Map<String, String> proxySettings = new LinkedHashMap<>();
        String options = startupParameters.get("options");
        if (options != null) {
            List<String> args = split(options);
            for (int i = 0; i < args.size(); i++) {
                String arg = args.get(i);
                String assignment;
                if (arg.equals("-c")) {
                    if (i + 1 >= args.size()) {
                        throw invalid(arg);
                    }
                    assignment = args.get(++i);
                } else if (arg.startsWith("-c")) {
                    assignment = arg.substring(2);
                } else if (arg.startsWith("--")) {
                    assignment = arg.substring(2);
                } else {
                    throw invalid(arg);
                }
                int eq = assignment.indexOf('=');
                if (eq <= 0) {
                    throw invalid(arg);
                }
                put(settings, proxySettings, assignment.substring(0, eq).replace('-', '_'), assignment.substring(eq + 1));
            }
        }
        // After the options, as the server does: a plain parameter wins over the same -c setting.
        for (Map.Entry<String, String> parameter : startupParameters.entrySet()) {
            String name = parameter.getKey();
            if (NOT_SETTINGS.contains(name) || name.startsWith("_pq_.")) {
                continue;
            }
            put(settings, proxySettings, name, parameter.getValue());
        }
        return new StartupOptions(settings, proxySettings);
    }

    private static void put(Map<String, String> settings, Map<String, String> proxySettings, String name, String value) {
        if (name.toLowerCase(Locale.ROOT).startsWith("pgrelay.")) {
            proxySettings.put(name.toLowerCase(Locale.ROOT), value);
        } else {
            settings.put(name, value);
        }
    }

    private static PgProtocolException invalid(String arg) {
        return new PgProtocolException(SqlState.INVALID_PARAMETER_VALUE,
                "invalid command-line argument for server process: " + arg);
    }

    /** Splits like the server's pg_split_opts: whitespace separates, backslash escapes the next character. */
    static List<String> split(String options) {
        List<String> args = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        boolean inArg = false;
        for (int i = 0; i < options.length(); i++) {
            char c = options.charAt(i);
            if (Character.isWhitespace(c)) {
                if (inArg) {
                    args.add(current.toString());
                    current.setLength(0);
                    inArg = false;
                }
            } else if (c == '\\' && i + 1 < options.length()) {
                current.append(options.charAt(++i));
                inArg = true;
            } else {
                current.append(c);
                inArg = true;
            }
        }
        if (inArg) {
            args.add(current.toString());
        }
        return args;
    }

    /** Server settings to apply on every backend the session uses, in the order the server would apply them. */
    public Map<String, String> settings() {
        return settings;
    }

    /** pgrelay's own settings (lower-case names). */
    public Map<String, String> proxySettings() {
        return proxySettings;
    }
}
