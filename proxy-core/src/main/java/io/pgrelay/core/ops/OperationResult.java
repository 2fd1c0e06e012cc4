package io.pgrelay.core.ops;

import java.util.List;

/**
 * The outcome of an operation with every step it took, in order, for the response body and
 * the log.
 */
public record OperationResult(String operation, boolean success, String error, List<Step> steps,
                              long durationMillis) {
    public OperationResult {
        steps = List.copyOf(steps);
    }

    /** One step: what was done, how it ended ("ok", "failed: …", "skipped: …"), how long it took. */
    public record Step(String name, String outcome, long millis) {
    }
}
