package io.pgrelay.core.classify;

/** What a statement does, as shown by {@code pgrelay classify} ({@code read|write|session|transaction|other}). */
public enum StatementKind {
    READ, WRITE, SESSION, TRANSACTION, OTHER;

    /** The lower-case name used in JSON output. */
    public String jsonName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
