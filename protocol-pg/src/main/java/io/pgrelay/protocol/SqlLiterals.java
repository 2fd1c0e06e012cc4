package io.pgrelay.protocol;

/** Quoting for the statements pgrelay composes itself. */
public final class SqlLiterals {
    private SqlLiterals() {
    }

    /**
     * An escape-string literal ({@code E'...'}), correct whatever the session's
     * standard_conforming_strings is.
     */
    public static String literal(String value) {
        StringBuilder sb = new StringBuilder(value.length() + 4).append("E'");
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\'' || c == '\\') {
                sb.append(c);
            }
            sb.append(c);
        }
        return sb.append('\'').toString();
    }

    /** {@code SELECT set_config(...)} for each setting: no identifier quoting needed, works on standbys. */
    public static String setConfig(Iterable<java.util.Map.Entry<String, String>> settings) {
        StringBuilder sb = new StringBuilder("SELECT ");
        boolean first = true;
        for (java.util.Map.Entry<String, String> setting : settings) {
            if (!first) {
                sb.append(", ");
            }
            first = false;
            sb.append("pg_catalog.set_config(").append(literal(setting.getKey())).append(", ")
                    .append(literal(setting.getValue())).append(", false)");
        }
        return first ? null : sb.toString();
    }
}
