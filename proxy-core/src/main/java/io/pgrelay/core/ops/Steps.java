package io.pgrelay.core.ops;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/** Records and logs the steps of one operation as they happen, then builds its {@link OperationResult}. */
final class Steps {
    private static final Logger log = LoggerFactory.getLogger(Steps.class);

    /** A step that returns a detail for its outcome ("ok: detail"); null means plain "ok". */
    @FunctionalInterface
    interface Action {
        String run() throws Exception;
    }

    /** A failed required step: the operation stops here. */
    static final class Failed extends RuntimeException {
        Failed(String message) {
            super(message, null, false, false);
        }
    }

    private final String operation;
    private final String actor;
    private final long started = System.nanoTime();
    private final List<OperationResult.Step> steps = new ArrayList<>();

    Steps(String operation, String actor) {
        this.operation = operation;
        this.actor = actor;
        log.info("{} requested by {}", operation, actor);
    }

    /** Runs a required step; a failure is recorded and thrown as {@link Failed}. */
    String run(String name, Action action) {
        long t0 = System.nanoTime();
        try {
            String detail = action.run();
            record(name, detail == null ? "ok" : "ok: " + detail, t0);
            return detail;
        } catch (Failed e) {
            record(name, "failed: " + e.getMessage(), t0);
            throw e;
        } catch (Exception e) {
            String message = message(e);
            record(name, "failed: " + message, t0);
            throw new Failed(name + ": " + message);
        }
    }

    /** Runs a best-effort step: a failure is recorded and the operation goes on. */
    boolean attempt(String name, Action action) {
        long t0 = System.nanoTime();
        try {
            String detail = action.run();
            record(name, detail == null ? "ok" : "ok: " + detail, t0);
            return true;
        } catch (Exception e) {
            record(name, "failed: " + message(e), t0);
            return false;
        }
    }

    /** A step that took {@code millis} measured elsewhere (e.g. the write pause). */
    void note(String name, String outcome, long millis) {
        steps.add(new OperationResult.Step(name, outcome, millis));
        log.info("{}: {}: {} ({} ms)", operation, name, outcome, millis);
    }

    void skipped(String name, String why) {
        note(name, "skipped: " + why, 0);
    }

    private void record(String name, String outcome, long t0) {
        note(name, outcome, (System.nanoTime() - t0) / 1_000_000);
    }

    OperationResult success() {
        long millis = elapsedMillis();
        log.info("{} by {} succeeded in {} ms", operation, actor, millis);
        return new OperationResult(operation, true, null, steps, millis);
    }

    OperationResult failure(String error) {
        long millis = elapsedMillis();
        log.warn("{} by {} failed after {} ms: {}", operation, actor, millis, error);
        return new OperationResult(operation, false, error, steps, millis);
    }

    long elapsedMillis() {
        return (System.nanoTime() - started) / 1_000_000;
    }

    static String message(Throwable e) {
        String message = e.getMessage();
        return message == null ? e.getClass().getSimpleName() : message.strip();
    }
}
