package io.pgrelay.core.config;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The pgrelay version this build carries (Maven fills it into version.properties). */
public final class Version {
    /** e.g. {@code 0.1.0-SNAPSHOT}; {@code (unknown version)} when the resource is missing or unfiltered. */
    public static final String CURRENT = load();

    private Version() {
    }

    private static String load() {
        try (InputStream in = Version.class.getResourceAsStream("/io/pgrelay/core/version.properties")) {
            if (in != null) {
                Properties properties = new Properties();
                properties.load(in);
                String version = properties.getProperty("version");
                if (version != null && !version.startsWith("$")) {
                    return version;
                }
            }
        } catch (IOException e) {
            // fall through: an unknown version is not worth failing for
        }
        return "(unknown version)";
    }
}
