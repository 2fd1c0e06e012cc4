package io.pgrelay.core.session;

import io.netty.buffer.ByteBuf;
import io.pgrelay.core.classify.Classification;

import java.util.concurrent.CompletableFuture;

/** What a client session needs from the statement classifier of its database. */
public interface SessionClassifier {
    /** Classifies SQL text held in {@code buf} (no NUL), in place; cached by fingerprint. */
    Classification classify(ByteBuf buf, int index, int length, boolean standardConformingStrings);

    /** Completes when the classifier knows its database's catalog (or gave up loading it). */
    default CompletableFuture<?> ready() {
        return CompletableFuture.completedFuture(null);
    }

    /** The schema changed (DDL went through this session): reload the catalog soon. */
    void schemaChanged();

    /** A statement a replica refused: from now on it goes to the primary. */
    void rememberPrimary(ByteBuf buf, int index, int length, boolean standardConformingStrings);
}
