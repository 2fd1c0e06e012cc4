package io.pgrelay.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Operating-system plumbing for {@link LocalCluster}: running commands (as the PostgreSQL OS user
 * when the JVM runs as root), file ownership, process discovery through {@code /proc}, signals
 * and ports.
 */
final class OsSupport {
    static final String LOOPBACK = "127.0.0.1";

    private static final List<Path> SYSTEM_DIRS = List.of(
            Path.of("/usr/sbin"), Path.of("/sbin"), Path.of("/usr/bin"), Path.of("/bin"),
            Path.of("/usr/local/sbin"), Path.of("/usr/local/bin"));

    /** {@code null} when commands run directly (the JVM is not root). */
    private final String serverUser;
    private final List<String> wrapper;
    private final UserPrincipal serverPrincipal;

    private OsSupport(String serverUser, List<String> wrapper, UserPrincipal serverPrincipal) {
        this.serverUser = serverUser;
        this.wrapper = wrapper;
        this.serverPrincipal = serverPrincipal;
    }

    /**
     * Runs commands directly when the JVM is not root; otherwise as {@code osUser}, which must exist.
     */
    static OsSupport create(String osUser) {
        if (!isRoot()) {
            return new OsSupport(null, List.of(), null);
        }
        CommandResult id = runRaw(List.of(findSystemExecutable("id").orElse("id"), "-u", osUser),
                Map.of(), null, Duration.ofSeconds(10));
        if (id.exitCode() != 0) {
            throw new LocalClusterException("The JVM runs as root and PostgreSQL refuses to run as root, so the "
                    + "servers must run as OS user '" + osUser + "', which does not exist (" + id.output().strip()
                    + "). Install PostgreSQL through the package manager (Debian/Ubuntu: apt-get install -y "
                    + "postgresql), which creates the 'postgres' user, or create it: useradd --system --create-home "
                    + osUser + ", or run the JVM as a non-root user.");
        }
        List<String> wrapper;
        Optional<String> runuser = findSystemExecutable("runuser");
        Optional<String> setpriv = findSystemExecutable("setpriv");
        if (runuser.isPresent()) {
            wrapper = List.of(runuser.get(), "-u", osUser, "--");
        } else if (setpriv.isPresent()) {
            String uid = id.output().strip();
            CommandResult gid = runRaw(List.of(findSystemExecutable("id").orElse("id"), "-g", osUser),
                    Map.of(), null, Duration.ofSeconds(10));
            wrapper = List.of(setpriv.get(), "--reuid=" + uid, "--regid=" + gid.output().strip(),
                    "--init-groups", "--");
        } else {
            throw new LocalClusterException("The JVM runs as root, so PostgreSQL commands must run as OS user '"
                    + osUser + "', but neither runuser nor setpriv (util-linux) was found. "
                    + "Install util-linux (apt-get install -y util-linux) or run the JVM as a non-root user.");
        }
        try {
            UserPrincipal principal = FileSystems.getDefault().getUserPrincipalLookupService()
                    .lookupPrincipalByName(osUser);
            return new OsSupport(osUser, wrapper, principal);
        } catch (IOException e) {
            throw new LocalClusterException("cannot look up OS user " + osUser, e);
        }
    }

    /** Whether the JVM's effective user is root. */
    static boolean isRoot() {
        try {
            Object uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
            return uid instanceof Integer i && i == 0;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return "root".equals(System.getProperty("user.name"));
        }
    }

    /** The OS user servers run as, or empty when they run as the JVM's own user. */
    Optional<String> serverUser() {
        return Optional.ofNullable(serverUser);
    }

    static Optional<String> findSystemExecutable(String name) {
        List<Path> dirs = new ArrayList<>(SYSTEM_DIRS);
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(":")) {
                if (!dir.isBlank()) {
                    dirs.add(Path.of(dir));
                }
            }
        }
        for (Path dir : dirs) {
            Path candidate = dir.resolve(name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate.toString());
            }
        }
        return Optional.empty();
    }

    // ------------------------------------------------------------------ commands

    /** The result of a finished command. */
    record CommandResult(List<String> command, int exitCode, String output) {
        boolean ok() {
            return exitCode == 0;
        }

        String describe() {
            return String.join(" ", command) + " exited with " + exitCode
                    + (output.isBlank() ? "" : ":\n" + output.strip());
        }
    }

    /** Runs a command as the server user (or directly when not root). */
    CommandResult runAsServer(List<String> command, Map<String, String> env, Path workDir, Duration timeout) {
        List<String> full = new ArrayList<>(wrapper);
        full.addAll(command);
        return runRaw(full, env, workDir, timeout);
    }

    /** Like {@link #runAsServer} but throws when the command fails. */
    CommandResult runAsServerChecked(List<String> command, Map<String, String> env, Path workDir, Duration timeout) {
        CommandResult result = runAsServer(command, env, workDir, timeout);
        if (!result.ok()) {
            throw new LocalClusterException(result.describe());
        }
        return result;
    }

    /**
     * Runs a command with a sanitised environment (no inherited {@code PG*} variables, C locale)
     * plus {@code env}, output captured through a file so that daemons inheriting it can never
     * block us. Kills the command when it outlives {@code timeout}.
     */
    static CommandResult runRaw(List<String> command, Map<String, String> env, Path workDir, Duration timeout) {
        Path out = null;
        try {
            out = Files.createTempFile("pgrelay-cmd", ".out");
            ProcessBuilder pb = new ProcessBuilder(command);
            Map<String, String> environment = pb.environment();
            environment.keySet().removeIf(k -> k.startsWith("PG") || k.startsWith("LC_") || k.equals("LANG")
                    || k.equals("LANGUAGE"));
            environment.put("LC_ALL", "C");
            environment.putAll(env);
            if (workDir != null) {
                pb.directory(workDir.toFile());
            }
            pb.redirectErrorStream(true);
            pb.redirectOutput(out.toFile());
            pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            Process process = pb.start();
            boolean finished;
            try {
                finished = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new LocalClusterException("interrupted while running " + String.join(" ", command), e);
            }
            String output = readOutput(out);
            if (!finished) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                throw new LocalClusterException(String.join(" ", command) + " did not finish within " + timeout
                        + (output.isBlank() ? "" : ":\n" + output.strip()));
            }
            return new CommandResult(List.copyOf(command), process.exitValue(), output);
        } catch (IOException e) {
            throw new LocalClusterException("cannot run " + String.join(" ", command) + ": " + e.getMessage(), e);
        } finally {
            if (out != null) {
                try {
                    Files.deleteIfExists(out);
                } catch (IOException ignored) {
                    // a leftover temp file is harmless
                }
            }
        }
    }

    private static String readOutput(Path out) throws IOException {
        byte[] bytes = Files.readAllBytes(out);
        int max = 64 * 1024;
        if (bytes.length > max) {
            return "...\n" + new String(bytes, bytes.length - max, max, StandardCharsets.UTF_8);
        }
        return new String(bytes, StandardCharsets.UTF_8);
    }

    // ------------------------------------------------------------------ files

    /** Creates {@code dir} (if needed) owned by the server user with mode 0700. */
    void createServerDirectory(Path dir) {
        try {
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
            chownToServer(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir, e);
        }
    }

    /** Writes a file readable only by the server user. */
    void writeServerFile(Path file, String content) {
        try {
            Files.writeString(file, content, StandardCharsets.UTF_8);
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
            chownToServer(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    /** Appends to a file owned by the server user, creating it when missing. */
    void appendServerFile(Path file, String content) {
        try {
            boolean existed = Files.exists(file);
            Files.writeString(file, content, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
            if (!existed) {
                Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
                chownToServer(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    void chownToServer(Path path) throws IOException {
        if (serverPrincipal != null) {
            Files.setOwner(path, serverPrincipal);
        }
    }

    /** Makes {@code dir} traversable (but not listable) by other users: mode 0711. */
    static void makeTraversable(Path dir) {
        try {
            Set<PosixFilePermission> perms = PosixFilePermissions.fromString("rwx--x--x");
            Files.setPosixFilePermissions(dir, perms);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot chmod " + dir, e);
        }
    }

    /** Whether the server user can enter {@code dir} (checks every ancestor for us). */
    boolean serverCanTraverse(Path dir) {
        if (serverUser == null) {
            return Files.isDirectory(dir) && Files.isExecutable(dir);
        }
        CommandResult result = runAsServer(List.of(findSystemExecutable("test").orElse("test"), "-x",
                dir.toString()), Map.of(), Path.of("/"), Duration.ofSeconds(10));
        return result.ok();
    }

    static void deleteRecursively(Path root) throws IOException {
        if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            List<Path> paths = walk.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList();
            for (Path p : paths) {
                try {
                    Files.deleteIfExists(p);
                } catch (java.nio.file.DirectoryNotEmptyException e) {
                    // a server wrote into it meanwhile; try once more below
                    deleteRecursively(p);
                }
            }
        } catch (UncheckedIOException e) {
            if (!(e.getCause() instanceof NoSuchFileException)) {
                throw e.getCause();
            }
            deleteRecursively(root);
        }
    }

    /** The last {@code lines} lines of a text file; empty when it does not exist. */
    static String tail(Path file, int lines) {
        try {
            if (!Files.exists(file)) {
                return "";
            }
            long size = Files.size(file);
            long start = Math.max(0, size - 256 * 1024);
            String text = readFrom(file, start);
            String[] all = text.split("\n", -1);
            int end = all.length;
            if (end > 0 && all[end - 1].isEmpty()) {
                end--;
            }
            int from = Math.max(0, end - lines);
            return String.join("\n", java.util.Arrays.asList(all).subList(from, end));
        } catch (IOException e) {
            return "(cannot read " + file + ": " + e.getMessage() + ")";
        }
    }

    static String readFrom(Path file, long offset) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            in.skipNBytes(Math.min(offset, Files.size(file)));
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return "";
        }
    }

    static long sizeOrZero(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return 0;
        }
    }

    // ------------------------------------------------------------------ processes

    /**
     * Whether a process exists and is not a zombie. Killed servers are re-parented to PID 1, which
     * in containers often never reaps them, so "kill -0 succeeds" is not good enough.
     */
    static boolean isAlive(long pid) {
        if (pid <= 0) {
            return false;
        }
        Path stat = Path.of("/proc", Long.toString(pid), "stat");
        if (Files.isDirectory(Path.of("/proc/self"))) {
            try {
                String s = Files.readString(stat, StandardCharsets.UTF_8);
                char state = s.substring(s.lastIndexOf(')') + 2).charAt(0);
                return state != 'Z' && state != 'X' && state != 'x';
            } catch (IOException | RuntimeException e) {
                return false;
            }
        }
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    /** All live (non-zombie) descendants of {@code pid}, found through the ppid field of /proc/&lt;pid&gt;/stat. */
    static List<Long> descendants(long pid) {
        Path proc = Path.of("/proc");
        if (!Files.isDirectory(proc.resolve("self"))) {
            return ProcessHandle.of(pid).stream().flatMap(ProcessHandle::descendants)
                    .map(ProcessHandle::pid).toList();
        }
        Map<Long, List<Long>> children = new HashMap<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(proc)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (name.isEmpty() || !Character.isDigit(name.charAt(0))) {
                    continue;
                }
                try {
                    String s = Files.readString(entry.resolve("stat"), StandardCharsets.UTF_8);
                    String[] fields = s.substring(s.lastIndexOf(')') + 2).split(" ");
                    char state = fields[0].charAt(0);
                    if (state == 'Z' || state == 'X') {
                        continue;
                    }
                    long ppid = Long.parseLong(fields[1]);
                    children.computeIfAbsent(ppid, k -> new ArrayList<>()).add(Long.parseLong(name));
                } catch (IOException | RuntimeException e) {
                    // the process exited while we looked
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list /proc", e);
        }
        Set<Long> result = new LinkedHashSet<>();
        Deque<Long> todo = new ArrayDeque<>(List.of(pid));
        while (!todo.isEmpty()) {
            for (Long child : children.getOrDefault(todo.poll(), List.of())) {
                if (result.add(child)) {
                    todo.add(child);
                }
            }
        }
        return List.copyOf(result);
    }

    /** Sends a signal (e.g. "STOP", "CONT", "KILL") to the given processes; missing ones are ignored. */
    static void signal(String signal, Collection<Long> pids) {
        if (pids.isEmpty()) {
            return;
        }
        List<String> command = new ArrayList<>();
        command.add(findSystemExecutable("kill").orElse("kill"));
        command.add("-" + signal);
        for (Long pid : pids) {
            command.add(Long.toString(pid));
        }
        // exit code 1 only means that some process was already gone
        runRaw(command, Map.of(), null, Duration.ofSeconds(10));
    }

    // ------------------------------------------------------------------ ports

    /** A port on 127.0.0.1 for a process that binds it later (see {@link FreePorts}), not in {@code avoid}. */
    static int pickFreePort(Set<Integer> avoid) {
        for (int attempt = 0; attempt < 100; attempt++) {
            int port = FreePorts.next();
            if (!avoid.contains(port)) {
                return port;
            }
        }
        throw new LocalClusterException("cannot find a free port on " + LOOPBACK);
    }

    /** Whether nothing listens on {@code port} and we could bind it. */
    static boolean isPortFree(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(LOOPBACK, port), 1);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Whether something accepts TCP connections on 127.0.0.1:{@code port}. */
    static boolean isListening(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(LOOPBACK, port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
