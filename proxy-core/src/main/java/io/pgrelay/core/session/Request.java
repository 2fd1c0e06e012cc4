package io.pgrelay.core.session;

import io.netty.buffer.ByteBuf;
import io.pgrelay.core.classify.Classification;
import io.pgrelay.core.classify.SessionEffect;
import io.pgrelay.core.classify.StatementFacts;
import io.pgrelay.core.classify.StatementKind;
import io.pgrelay.core.classify.Trait;
import io.pgrelay.core.classify.Traits;

import java.util.ArrayList;
import java.util.List;

/**
 * The client messages that go to one server together: a simple Query, a FunctionCall, or the
 * extended-protocol messages up to a Sync (or a Flush), with what the classifier and the session
 * know of them. Routing decides once per request. One instance per session, reused.
 */
final class Request {
    /** Owned by the request until written. */
    // Lists start empty (no array until the first add): an idle client costs less.
    final List<ByteBuf> frames = new ArrayList<>();
    /** Per frame: the statement a Parse, Bind, Describe or Close refers to ("" unnamed), else null. */
    final List<String> names = new ArrayList<>();
    /** The classification of each Query text and each Parse, in order. */
    final List<Classification> texts = new ArrayList<>();
    /** Statements prepared before this request that a Bind or Describe in it uses. */
    final List<Classification> usedStatements = new ArrayList<>();
    /** Statements the server will execute, in order: each of a Query's, the bound one of each Execute. */
    final List<StatementFacts> executed = new ArrayList<>();

    /** 'Q', 'F', 'S' (Sync) or 'H' (Flush): what ended the request. */
    byte terminator;
    /** A Bind or Describe names a statement the session does not know. */
    String unknownStatement;
    /** A Parse must reach a server (the unnamed statement, or a name in use: the server decides; 42P05). */
    boolean parseNeedsServer;
    /** Frames that parse a name the session already has: the server refuses those Parses (42P05). */
    final java.util.BitSet refusedParses = new java.util.BitSet();
    Traits traits = Traits.NONE;
    /** The most telling kind of its statements, for metrics; null before any. */
    StatementKind kind;

    void add(ByteBuf frame, String name) {
        frames.add(frame);
        names.add(name);
    }

    boolean isEmpty() {
        return frames.isEmpty();
    }

    boolean simpleQuery() {
        return terminator == 'Q';
    }

    boolean functionCall() {
        return terminator == 'F';
    }

    /** Whether a reply ends with ReadyForQuery (a Flush-ended request goes on). */
    boolean complete() {
        return terminator != 'H' && terminator != 0;
    }

    void classified(Classification classification) {
        texts.add(classification);
        traits = traits.union(classification.traits());
        noteKind(classification.kind());
    }

    void uses(Classification classification) {
        usedStatements.add(classification);
        traits = traits.union(classification.traits().without(Trait.SESSION_OBJECT));
        noteKind(classification.kind());
    }

    boolean has(Trait trait) {
        return traits.has(trait);
    }

    /** Whether an executed statement has an effect of this type. */
    boolean hasEffect(Class<? extends SessionEffect> type) {
        return effect(type) != null;
    }

    /** The first effect of this type among the executed statements, or null. */
    <T extends SessionEffect> T effect(Class<T> type) {
        for (int i = 0; i < executed.size(); i++) {
            T effect = executed.get(i).effect(type);
            if (effect != null) {
                return effect;
            }
        }
        return null;
    }

    /** The only executed statement's only effect, when it is of this type. */
    <T extends SessionEffect> T soleEffect(Class<T> type) {
        if (executed.size() != 1 || executed.get(0).effects().size() != 1 || has(Trait.MULTI)) {
            return null;
        }
        SessionEffect effect = executed.get(0).effects().get(0);
        return type.isInstance(effect) ? type.cast(effect) : null;
    }

    /** Only Parse messages and a Sync (libpq's PQprepare). */
    boolean onlyParses() {
        if (terminator != 'S' || frames.size() < 2) {
            return false;
        }
        for (int i = 0; i < frames.size() - 1; i++) {
            if (io.pgrelay.protocol.Wire.frameType(frames.get(i)) != 'P') {
                return false;
            }
        }
        return true;
    }

    /** Notes a statement's kind; a write outranks a read, which outranks session, other and transaction control. */
    private void noteKind(StatementKind statementKind) {
        if (statementKind != null && (kind == null || rank(statementKind) > rank(kind))) {
            kind = statementKind;
        }
    }

    private static int rank(StatementKind statementKind) {
        return switch (statementKind) {
            case WRITE -> 4;
            case READ -> 3;
            case SESSION -> 2;
            case OTHER -> 1;
            case TRANSACTION -> 0;
        };
    }

    /**
     * Becomes a copy of {@code source} (this one empty); {@code retain}: the frames are shared
     * (retained), else their ownership moves here.
     */
    void copyOf(Request source, boolean retain) {
        for (int i = 0; i < source.frames.size(); i++) {
            ByteBuf frame = source.frames.get(i);
            add(retain ? frame.retain() : frame, source.names.get(i));
        }
        terminator = source.terminator;
        RequestAssembler.addAll(texts, source.texts);
        RequestAssembler.addAll(usedStatements, source.usedStatements);
        RequestAssembler.addAll(executed, source.executed);
        traits = source.traits;
        kind = source.kind;
    }

    /** Forgets the request after its frames were written (their ownership went with them). */
    void clear() {
        frames.clear();
        names.clear();
        texts.clear();
        usedStatements.clear();
        executed.clear();
        terminator = 0;
        unknownStatement = null;
        parseNeedsServer = false;
        refusedParses.clear();
        traits = Traits.NONE;
        kind = null;
    }

    /** Releases frames that will never be written (the session is closing, or answered itself). */
    void release() {
        for (int i = 0; i < frames.size(); i++) { // indexed: no iterator per request
            frames.get(i).release();
        }
        clear();
    }
}
