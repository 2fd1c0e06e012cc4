package io.pgrelay.core.ops;

/** A request that cannot be carried out as asked; {@link #kind} maps to an HTTP status. */
public final class OperationException extends RuntimeException {
    public enum Kind { BAD_REQUEST, NOT_FOUND, CONFLICT, UNAVAILABLE }

    private final Kind kind;

    public OperationException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
