package io.pgrelay.core.ops;

import io.pgrelay.core.cluster.NodeStatus;
import io.pgrelay.core.cluster.Topology;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Runs the configured {@code failover.hooks} on cluster events ({@code node-down},
 * {@code failover}, {@code switchover}), one after another on their own thread so a slow hook
 * never delays an operation or an event loop. Each command runs with {@code sh -c} after its
 * placeholders ({@code {event} {old_primary} {old_host} {old_port} {new_primary} {new_host}
 * {new_port} {node} {host} {port}}) are replaced by shell-quoted values; a hook past the
 * timeout is killed; its output is logged.
 */
final class FailoverHooks implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(FailoverHooks.class);
    private static final int MAX_LOGGED_OUTPUT = 8 * 1024;

    private final List<String> commands;
    private final Duration timeout;
    private final ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
        Thread thread = new Thread(r, "pgrelay-hooks");
        thread.setDaemon(true);
        return thread;
    });

    FailoverHooks(List<String> commands, Duration timeout) {
        this.commands = List.copyOf(commands);
        this.timeout = timeout;
    }

    int size() {
        return commands.size();
    }

    /** {@code node-down}: {@code node} went down while {@code topology} names the primary (old = new). */
    void nodeDown(NodeStatus node, Topology topology) {
        NodeStatus primary = topology.primary();
        fire("node-down", values(node, primary, primary));
    }

    /** {@code failover} or {@code switchover}: {@code promoted} replaced {@code old}. */
    void promoted(String event, NodeStatus old, NodeStatus promoted) {
        fire(event, values(promoted, old, promoted));
    }

    private static Map<String, String> values(NodeStatus node, NodeStatus oldPrimary, NodeStatus newPrimary) {
        Map<String, String> values = new LinkedHashMap<>();
        values.put("node", node.name());
        values.put("host", node.host());
        values.put("port", String.valueOf(node.port()));
        putNode(values, "old", oldPrimary);
        putNode(values, "new", newPrimary);
        return values;
    }

    private static void putNode(Map<String, String> values, String prefix, NodeStatus node) {
        values.put(prefix + "_primary", node == null ? "" : node.name());
        values.put(prefix + "_host", node == null ? "" : node.host());
        values.put(prefix + "_port", node == null ? "" : String.valueOf(node.port()));
    }

    /** Queues every hook for {@code event}; {@code values} maps placeholder names (without braces) to values. */
    void fire(String event, Map<String, String> values) {
        if (commands.isEmpty() || executor.isShutdown()) {
            return;
        }
        for (String command : commands) {
            String expanded = expand(command, event, values);
            executor.execute(() -> run(event, expanded));
        }
    }

    static String expand(String command, String event, Map<String, String> values) {
        String result = command.replace("{event}", shellQuote(event));
        for (Map.Entry<String, String> e : values.entrySet()) {
            result = result.replace("{" + e.getKey() + "}", shellQuote(e.getValue() == null ? "" : e.getValue()));
        }
        return result;
    }

    /** Single-quoted for sh: node names and hosts come from operators but must never become shell syntax. */
    static String shellQuote(String value) {
        return "'" + value.replace("'", "'\\''") + "'";
    }

    private void run(String event, String command) {
        File output = null;
        long t0 = System.nanoTime();
        try {
            output = File.createTempFile("pgrelay-hook", ".out");
            Process process = new ProcessBuilder("sh", "-c", command)
                    .redirectErrorStream(true)
                    .redirectOutput(output)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
            boolean finished = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!finished) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
            String text = read(output);
            long millis = (System.nanoTime() - t0) / 1_000_000;
            if (!finished) {
                log.warn("hook for {} killed after {} ms (failover.hook-timeout): {}; output: {}", event, millis,
                        command, text);
            } else if (process.exitValue() != 0) {
                log.warn("hook for {} exited with {} after {} ms: {}; output: {}", event, process.exitValue(), millis,
                        command, text);
            } else {
                log.info("hook for {} done in {} ms: {}; output: {}", event, millis, command, text);
            }
        } catch (IOException e) {
            log.warn("hook for {} could not run: {}: {}", event, command, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (output != null && !output.delete()) {
                output.deleteOnExit();
            }
        }
    }

    private static String read(File file) throws IOException {
        byte[] bytes = Files.readAllBytes(file.toPath());
        String text = new String(bytes, 0, Math.min(bytes.length, MAX_LOGGED_OUTPUT), StandardCharsets.UTF_8).strip();
        return bytes.length > MAX_LOGGED_OUTPUT ? text + "…" : text;
    }

    /** Waits briefly for queued hooks (tests, orderly shutdown), then stops. */
    @Override
    public void close() {
        executor.shutdown();
        try {
            if (!executor.awaitTermination(Math.min(timeout.toMillis() + 1000, 5000), TimeUnit.MILLISECONDS)) {
                executor.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            executor.shutdownNow();
        }
    }
}
