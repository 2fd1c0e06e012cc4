package io.pgrelay.core.session;

import io.netty.buffer.ByteBuf;
import io.pgrelay.core.classify.SessionEffect;
import io.pgrelay.core.classify.StatementKind;
import io.pgrelay.core.classify.Trait;
import io.pgrelay.core.classify.Traits;

import java.util.ArrayList;
import java.util.List;

/**
 * The client messages that go to one server together: a simple Query, a FunctionCall, or
 * the extended-protocol messages up to a Sync (or a Flush). Routing decides once per unit.
 * One instance per session, reused.
 */
final class Unit {
    /** The unit's frames, owned by the unit until written. */
    final List<ByteBuf> frames = new ArrayList<>(8);
    /** Per frame: the statement name a Parse, Bind, Describe or Close refers to, else null. */
    final List<String> names = new ArrayList<>(8);
    /** Session effects of its statements, in order. */
    final List<SessionEffect> commands = new ArrayList<>(2);

    /** 'Q', 'F', 'S' (Sync) or 'H' (Flush): what ended the unit. */
    byte terminator;
    boolean primaryOnly;
    String reason;
    Traits traits = Traits.NONE;
    /** A statement in it is one of pgrelay's own settings. */
    boolean proxySetting;
    /** A statement in it starts a transaction block; {@link #beginReadOnly} when READ ONLY. */
    boolean begins;
    boolean beginReadOnly;
    /** The unit starts with a Query (not extended protocol). */
    boolean simpleQuery;
    /** Some statement's target depends on where a prepared statement / cursor lives. */
    boolean sessionDependent;
    /** The unit's kind for the statement metrics: the most telling of its statements' kinds, null before any. */
    StatementKind kind;
    /** A Parse in this unit must reach a server (unnamed, or a name already in use). */
    boolean parseNeedsServer;

    void add(ByteBuf frame, String name) {
        frames.add(frame);
        names.add(name);
    }

    boolean isEmpty() {
        return frames.isEmpty();
    }

    /** Notes that the unit must run on the primary, keeping the first reason given. */
    void requirePrimary(String why) {
        if (!primaryOnly) {
            primaryOnly = true;
            reason = why;
        }
    }

    /** Notes a statement's kind; a write outranks a read, which outranks session, other and transaction control. */
    void noteKind(StatementKind statementKind) {
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

    boolean has(Trait trait) {
        return traits.has(trait);
    }

    /** Forgets the unit after its frames were written (their ownership went with them). */
    void clear() {
        frames.clear();
        names.clear();
        commands.clear();
        terminator = 0;
        primaryOnly = false;
        reason = null;
        traits = Traits.NONE;
        proxySetting = false;
        begins = false;
        beginReadOnly = false;
        simpleQuery = false;
        sessionDependent = false;
        kind = null;
        parseNeedsServer = false;
    }

    /** Releases frames that will never be written (the session is closing). */
    void release() {
        for (ByteBuf frame : frames) {
            frame.release();
        }
        clear();
    }
}
