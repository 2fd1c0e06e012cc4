package io.pgrelay.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs client programs (psql, pgbench) for the end-to-end tests. */
public final class Processes {
    private Processes() {
    }

    public record Result(int exitCode, String stdout, String stderr) {
        public String output() {
            return stdout + stderr;
        }
    }

    /** A PostgreSQL client program from the same installation as the test cluster's server. */
    public static String pgProgram(String name) {
        Path candidate = TestCluster.get().binDir().resolve(name);
        if (!Files.isExecutable(candidate)) {
            throw new AssertionError(name + " not found in " + TestCluster.get().binDir()
                    + ": install the PostgreSQL client programs (apt-get install -y postgresql-client postgresql-contrib)");
        }
        return candidate.toString();
    }

    public static Result run(List<String> command, Map<String, String> env, String stdin, Duration timeout) {
        try {
            Path out = Files.createTempFile("pgrelay-proc", ".out");
            Path err = Files.createTempFile("pgrelay-proc", ".err");
            try {
                ProcessBuilder builder = new ProcessBuilder(command)
                        .redirectOutput(out.toFile())
                        .redirectError(err.toFile());
                builder.environment().putAll(env);
                Process process = builder.start();
                if (stdin != null) {
                    process.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
                }
                process.getOutputStream().close();
                if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    process.destroyForcibly();
                    throw new AssertionError("timed out after " + timeout + ": " + command + "\nstdout:\n"
                            + Files.readString(out) + "\nstderr:\n" + Files.readString(err));
                }
                return new Result(process.exitValue(), Files.readString(out), Files.readString(err));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new AssertionError("could not run " + command + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted running " + command, e);
        }
    }
}
