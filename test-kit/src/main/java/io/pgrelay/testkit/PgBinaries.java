package io.pgrelay.testkit;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Locates the PostgreSQL server binaries. */
final class PgBinaries {
    private static final Logger log = LoggerFactory.getLogger(PgBinaries.class);

    /** Executables a bin dir must contain to be usable. */
    static final List<String> REQUIRED = List.of("initdb", "postgres", "pg_ctl", "pg_basebackup");

    static final String INSTALL_HINT = "Install the PostgreSQL server: on Debian/Ubuntu run "
            + "`apt-get update && apt-get install -y postgresql` (binaries land in /usr/lib/postgresql/<version>/bin); "
            + "on Fedora/RHEL `dnf install -y postgresql-server`; on macOS `brew install postgresql@16`. "
            + "Or set the environment variable PG_BIN to a directory containing initdb, postgres, pg_ctl "
            + "and pg_basebackup.";

    private PgBinaries() {
    }

    /** Search order: env PG_BIN, {@code pg_config --bindir}, highest /usr/lib/postgresql/N/bin, PATH. */
    static Optional<Path> find() {
        return find(new ArrayList<>());
    }

    private static Optional<Path> find(List<String> tried) {
        String env = System.getenv("PG_BIN");
        if (env != null && !env.isBlank()) {
            Path dir = Path.of(env.strip());
            if (isUsable(dir)) {
                return Optional.of(dir.toAbsolutePath().normalize());
            }
            log.warn("PG_BIN={} does not contain {}; searching elsewhere", env, REQUIRED);
            tried.add("PG_BIN=" + env + " (missing " + missing(dir) + ")");
        } else {
            tried.add("PG_BIN (not set)");
        }

        Optional<Path> fromPgConfig = pgConfigBinDir();
        if (fromPgConfig.isPresent() && isUsable(fromPgConfig.get())) {
            return fromPgConfig;
        }
        tried.add("pg_config --bindir" + fromPgConfig.map(p -> " = " + p + " (missing " + missing(p) + ")")
                .orElse(" (pg_config not found)"));

        Optional<Path> versioned = highestVersionedDir(Path.of("/usr/lib/postgresql"));
        if (versioned.isPresent()) {
            return versioned;
        }
        tried.add("/usr/lib/postgresql/*/bin (none)");

        String path = System.getenv("PATH");
        if (path != null) {
            for (String entry : path.split(":")) {
                if (!entry.isBlank() && isUsable(Path.of(entry))) {
                    return Optional.of(Path.of(entry).toAbsolutePath().normalize());
                }
            }
        }
        tried.add("PATH=" + path);
        return Optional.empty();
    }

    /** Like {@link #find()} but fails with installation instructions. */
    static Path require() {
        List<String> tried = new ArrayList<>();
        return find(tried).orElseThrow(() -> new LocalClusterException.BinariesNotFound(
                "PostgreSQL server binaries (" + String.join(", ", REQUIRED) + ") not found; looked at: "
                        + String.join("; ", tried) + ". " + INSTALL_HINT));
    }

    /** Checks an explicitly configured directory. */
    static Path requireUsable(Path dir) {
        if (!isUsable(dir)) {
            throw new LocalClusterException.BinariesNotFound("configured PostgreSQL bin dir " + dir
                    + " lacks " + missing(dir) + ". " + INSTALL_HINT);
        }
        return dir.toAbsolutePath().normalize();
    }

    static boolean isUsable(Path dir) {
        return Files.isDirectory(dir) && missing(dir).isEmpty();
    }

    private static List<String> missing(Path dir) {
        List<String> missing = new ArrayList<>();
        for (String name : REQUIRED) {
            Path exe = dir.resolve(name);
            if (!Files.isRegularFile(exe) || !Files.isExecutable(exe)) {
                missing.add(name);
            }
        }
        return missing;
    }

    private static Optional<Path> pgConfigBinDir() {
        Optional<String> pgConfig = OsSupport.findSystemExecutable("pg_config");
        if (pgConfig.isEmpty()) {
            return Optional.empty();
        }
        try {
            OsSupport.CommandResult result = OsSupport.runRaw(List.of(pgConfig.get(), "--bindir"), Map.of(), null,
                    Duration.ofSeconds(10));
            String out = result.output().strip();
            if (!result.ok() || out.isEmpty() || out.contains("\n")) {
                return Optional.empty();
            }
            return Optional.of(Path.of(out));
        } catch (RuntimeException e) {
            log.debug("pg_config --bindir failed", e);
            return Optional.empty();
        }
    }

    private static final Pattern VERSION = Pattern.compile("(\\d+)(?:\\.(\\d+))?");

    static Optional<Path> highestVersionedDir(Path root) {
        if (!Files.isDirectory(root)) {
            return Optional.empty();
        }
        List<Path> candidates = new ArrayList<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root)) {
            for (Path dir : dirs) {
                if (VERSION.matcher(dir.getFileName().toString()).matches() && isUsable(dir.resolve("bin"))) {
                    candidates.add(dir.resolve("bin"));
                }
            }
        } catch (IOException e) {
            return Optional.empty();
        }
        return candidates.stream().max(Comparator.comparingLong(PgBinaries::versionKey));
    }

    private static long versionKey(Path binDir) {
        Matcher m = VERSION.matcher(binDir.getParent().getFileName().toString());
        if (!m.matches()) {
            return -1;
        }
        long major = Long.parseLong(m.group(1));
        long minor = m.group(2) == null ? 0 : Long.parseLong(m.group(2));
        return major * 1000 + minor;
    }
}
