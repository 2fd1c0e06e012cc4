package io.pgrelay.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A pgrelay running as a child process, {@code java -jar pgrelay.jar run --config FILE}, as a user
 * runs it. It gets a session of its own ({@code setsid}, where available) so that a Ctrl-C in the
 * terminal reaches only its parent, which stops it in order ({@link #close()}: SIGTERM, then
 * SIGKILL after 15 s). Its output is copied to the parent's, each line prefixed with its name, and
 * the last lines are kept to say why it died ({@link #describeExit()}).
 */
public final class ProxyProcess implements AutoCloseable {
    private static final int TAIL_LINES = 15;
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(15);
    private static final Map<Integer, String> SIGNALS = Map.of(1, "SIGHUP", 2, "SIGINT", 3, "SIGQUIT", 6, "SIGABRT",
            9, "SIGKILL", 11, "SIGSEGV", 15, "SIGTERM");

    private final String name;
    private final Process process;
    private final Thread pump;
    private final Deque<String> tail = new ArrayDeque<>();
    private volatile boolean stopping;

    private ProxyProcess(String name, Process process, PrintStream out) {
        this.name = name;
        this.process = process;
        this.pump = new Thread(() -> copyOutput(out), name + "-output");
        pump.setDaemon(true);
        pump.start();
    }

    /**
     * Starts {@code java <jvmOptions> -jar <jar> run --config <config>} with the running JVM's
     * {@code java}; its output goes to {@code out}, line by line, prefixed with {@code name}.
     */
    public static ProxyProcess start(String name, Path jar, Path config, List<String> jvmOptions, PrintStream out) {
        List<String> command = new ArrayList<>();
        OsSupport.findSystemExecutable("setsid").ifPresent(command::add);
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.addAll(List.of("-jar", jar.toString(), "run", "--config", config.toString()));
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            process.getOutputStream().close();
            return new ProxyProcess(name, process, out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command, e);
        }
    }

    /**
     * The options of the running JVM that a child JVM should get too (heap, GC, stack size,
     * system properties such as the logback configuration), without agents or debuggers.
     */
    public static List<String> inheritableJvmOptions() {
        List<String> options = new ArrayList<>();
        for (String arg : java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            boolean debugger = arg.startsWith("-Xrunjdwp") || arg.equals("-Xdebug");
            if ((arg.startsWith("-X") || arg.startsWith("-D")) && !debugger) {
                options.add(arg);
            }
        }
        return options;
    }

    public String name() {
        return name;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** Whether {@link #close()} was called: an exit after that is no news. */
    public boolean isStopping() {
        return stopping;
    }

    /** Completes when the process has exited and its last output was read. */
    public CompletableFuture<ProxyProcess> onExit() {
        return process.onExit().thenApply(p -> {
            joinPump();
            return this;
        });
    }

    /**
     * Waits until {@code GET readyz} answers 200 (pgrelay knows a primary).
     *
     * @throws IllegalStateException if the process exits or {@code timeout} passes first; the
     *                               message says why and shows its last output
     */
    public void awaitReady(URI readyz, Duration timeout) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        HttpRequest request = HttpRequest.newBuilder(readyz).timeout(Duration.ofSeconds(2)).GET().build();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                joinPump();
                throw new IllegalStateException(describeExit());
            }
            try {
                if (http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for " + name, e);
            }
            sleep(200);
        }
        throw new IllegalStateException(name + " (pid " + pid() + ") not ready at " + readyz + " after " + timeout
                + lastOutput());
    }

    /**
     * How the process ended, e.g. "pgrelay (pid 4711) was killed by signal 9 (SIGKILL)", followed
     * by its last lines of output; or that it is still running.
     */
    public String describeExit() {
        if (process.isAlive()) {
            return name + " (pid " + pid() + ") is running";
        }
        int status = process.exitValue();
        String how;
        if (status > 128 && status < 128 + 32) {
            int signal = status - 128;
            how = "was killed by signal " + signal + Optional.ofNullable(SIGNALS.get(signal)).map(s -> " (" + s + ")")
                    .orElse("") + ", exit status " + status;
        } else {
            how = "exited with status " + status;
        }
        return name + " (pid " + pid() + ") " + how + lastOutput();
    }

    /** SIGTERM, then SIGKILL if it is still running after 15 s. Idempotent. */
    @Override
    public void close() {
        stopping = true;
        if (!process.isAlive()) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
        joinPump();
    }

    private String lastOutput() {
        List<String> lines;
        synchronized (tail) {
            lines = List.copyOf(tail);
        }
        if (lines.isEmpty()) {
            return "; it printed nothing";
        }
        return "; its last output (stack frames left out):\n    " + String.join("\n    ", lines);
    }

    private void copyOutput(PrintStream out) {
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                // Stack frames are left out of the tail, which would otherwise hold only frames
                // and not the exception's message.
                if (!line.stripLeading().startsWith("at ") && !line.stripLeading().startsWith("... ")) {
                    synchronized (tail) {
                        if (tail.size() == TAIL_LINES) {
                            tail.removeFirst();
                        }
                        tail.addLast(line);
                    }
                }
                out.println(name + " | " + line);
            }
        } catch (IOException e) {
            // the process is gone
        }
    }

    private void joinPump() {
        try {
            pump.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
