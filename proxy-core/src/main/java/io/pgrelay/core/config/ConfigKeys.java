package io.pgrelay.core.config;

/** How the configuration's record components are named in the YAML file. */
public final class ConfigKeys {
    private ConfigKeys() {
    }

    /** {@code maxSize} → {@code max-size}, as the YAML keys are spelt. */
    public static String kebab(String camel) {
        StringBuilder sb = new StringBuilder(camel.length() + 4);
        for (int i = 0; i < camel.length(); i++) {
            char c = camel.charAt(i);
            if (Character.isUpperCase(c)) {
                sb.append('-').append(Character.toLowerCase(c));
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }
}
