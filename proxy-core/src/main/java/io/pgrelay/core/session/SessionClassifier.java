package io.pgrelay.core.session;

import io.netty.buffer.ByteBuf;
import io.pgrelay.core.classify.Classification;
import io.pgrelay.core.classify.Effects;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/** What a client session needs from the statement classifier of its database. */
public interface SessionClassifier {
    /** Effects whose statements the session parses precisely with {@link #commands}. */
    int NEEDS_COMMANDS = Effects.BEGIN | Effects.BEGIN_READ_ONLY | Effects.COMMIT_ROLLBACK | Effects.SET_TRANSACTION
            | Effects.SET | Effects.PREPARE | Effects.EXECUTE | Effects.DEALLOCATE | Effects.DECLARE_CURSOR
            | Effects.DECLARE_WITH_HOLD | Effects.CLOSE_CURSOR | Effects.LISTEN | Effects.UNLISTEN | Effects.DISCARD
            | Effects.TEMP_OBJECT | Effects.ADVISORY_LOCK | Effects.ADVISORY_UNLOCK | Effects.PGRELAY_SETTING;

    /** Classifies SQL text held in {@code buf} (no NUL), in place; cached by fingerprint. */
    Classification classify(ByteBuf buf, int index, int length, boolean standardConformingStrings);

    /** The statements with session effects in this text, parsed precisely (uncached). */
    Analysis analyze(String sql, boolean standardConformingStrings);

    /**
     * The session commands of a text and the route of its statements that do not depend on
     * session state ({@code otherPrimary}: one of them needs the primary); EXECUTE and FETCH
     * depend on what the session prepared or declared and are resolved by the session.
     */
    record Analysis(List<SessionCommand> commands, boolean otherPrimary, String otherReason) {
    }

    /** Completes when the classifier knows its database's catalog (or gave up loading it). */
    default CompletableFuture<?> ready() {
        return CompletableFuture.completedFuture(null);
    }

    /** The schema changed (DDL went through this session): reload the catalog soon. */
    void schemaChanged();

    /** A statement a replica refused: from now on it goes to the primary. */
    void rememberPrimary(ByteBuf buf, int index, int length, boolean standardConformingStrings);
}
