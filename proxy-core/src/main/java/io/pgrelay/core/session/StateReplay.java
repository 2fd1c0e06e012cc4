package io.pgrelay.core.session;

import io.netty.buffer.ByteBuf;
import io.pgrelay.core.backend.AppliedSettings;
import io.pgrelay.core.backend.BackendConnection;
import io.pgrelay.core.backend.InternalQueryCallback;
import io.pgrelay.core.backend.ServerSessionState;
import io.pgrelay.core.backend.StatementIdentity;
import io.pgrelay.core.classify.Classification;
import io.pgrelay.core.classify.SessionEffect;
import io.pgrelay.core.classify.StatementFacts;
import io.pgrelay.core.classify.Trait;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.frontend.Close;
import io.pgrelay.protocol.message.frontend.Parse;

import java.util.List;

/**
 * Brings a backend to the session's state before the session's work runs there: settings (in
 * one internal query), SQL-level prepared statements the request executes, and protocol-level
 * statements it binds or describes (Parse messages pgrelay inserts in the client's stream). The
 * backend's {@link ServerSessionState} says what is there already, whichever session put it.
 */
final class StateReplay {
    private final SessionSettings settings;
    private final SessionObjects objects;
    private final InternalQueryCallback onReplayed;

    StateReplay(SessionSettings settings, SessionObjects objects, InternalQueryCallback onReplayed) {
        this.settings = settings;
        this.objects = objects;
        this.onReplayed = onReplayed;
    }

    /** Brings the backend's settings to the session's, unless they already match; returns whether it wrote. */
    boolean settings(BackendConnection backend, InternalQueryCallback done) {
        return settings(settings, backend, done);
    }

    static boolean settings(SessionSettings settings, BackendConnection backend, InternalQueryCallback done) {
        String wanted = settings.stateKey();
        ServerSessionState state = backend.sessionState();
        AppliedSettings applied = state.settings();
        if (applied.matches(wanted)) {
            return false;
        }
        String sql = applied instanceof AppliedSettings.Pristine ? wanted
                : wanted.isEmpty() ? SessionSettings.RESET_SQL : SessionSettings.RESET_SQL + "; " + wanted;
        state.settings(AppliedSettings.known(wanted));
        backend.writeInternalQuery(sql, done);
        return true;
    }

    /** The SQL-level prepared statements the request's statements need (or must be refused) on this backend. */
    void sqlStatements(BackendConnection backend, Request request) {
        if (request.has(Trait.SESSION_OBJECTS_READ)) {
            everything(backend, true);
            return;
        }
        if (request.has(Trait.DYNAMIC_SQL)) {
            everything(backend, false); // an EXECUTE inside a function is invisible here
            return;
        }
        // A Parse or Describe of EXECUTE name needs name where it is parsed or described (psql's \gdesc).
        executedBy(backend, request.texts);
        executedBy(backend, request.usedStatements);
        for (int i = 0; i < request.executed.size(); i++) {
            List<SessionEffect> effects = request.executed.get(i).effects();
            for (int j = 0; j < effects.size(); j++) {
                SessionEffect effect = effects.get(j);
                if (effect instanceof SessionEffect.Execute execute) {
                    ensureSql(backend, execute.name());
                } else if (effect instanceof SessionEffect.Deallocate deallocate && deallocate.name() != null) {
                    ensureSql(backend, deallocate.name());
                } else if (effect instanceof SessionEffect.Prepare prepare) {
                    if (objects.sqlPrepared(prepare.name()) != null) {
                        ensureSql(backend, prepare.name()); // the server refuses the second PREPARE (42P05)
                    } else if (backend.sessionState().sqlStatement(prepare.name()) != null) {
                        deallocate(backend, prepare.name()); // another session's statement of that name
                    }
                }
            }
        }
    }

    private void executedBy(BackendConnection backend, List<Classification> classifications) {
        for (int i = 0; i < classifications.size(); i++) {
            List<StatementFacts> statements = classifications.get(i).statements();
            for (int j = 0; j < statements.size(); j++) {
                SessionEffect.Execute execute = statements.get(j).effect(SessionEffect.Execute.class);
                if (execute != null) {
                    ensureSql(backend, execute.name());
                }
            }
        }
    }

    /**
     * Every statement the session prepared; {@code exactly}: and no other, so that what the
     * server lists (pg_prepared_statements) is the session's own, not what other sessions left on
     * a pooled backend.
     */
    private void everything(BackendConnection backend, boolean exactly) {
        ServerSessionState state = backend.sessionState();
        if (exactly) {
            for (String name : state.sqlStatementNames()) {
                if (objects.sqlPrepared(name) == null) {
                    deallocate(backend, name);
                }
            }
            for (String name : state.statementNames()) {
                if (objects.statement(name) == null) {
                    backend.writeInsertedMessage(Close.statement(name), Close.TYPE);
                    state.statementClosed(name);
                }
            }
        }
        for (SessionObjects.SqlPrepared prepared : objects.sqlStatements()) {
            ensureSql(backend, prepared.name());
        }
        for (SessionObjects.PreparedStatement statement : objects.namedStatements()) {
            ensureStatement(backend, statement.identity().name());
        }
    }

    private void ensureSql(BackendConnection backend, String name) {
        SessionObjects.SqlPrepared prepared = objects.sqlPrepared(name);
        ServerSessionState state = backend.sessionState();
        String present = state.sqlStatement(name);
        if (prepared == null || prepared.prepareSql().equals(present)) {
            return;
        }
        if (present != null) {
            deallocate(backend, name);
        }
        backend.writeInternalQuery(prepared.prepareSql(), onReplayed);
        state.sqlPrepared(name, prepared.prepareSql());
    }

    private void deallocate(BackendConnection backend, String name) {
        backend.writeInternalQuery("DEALLOCATE " + quoteIdent(name), onReplayed);
        backend.sessionState().sqlDeallocated(name);
    }

    private static String quoteIdent(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }

    /**
     * Before a client frame goes out: makes sure the protocol-level statement it refers to exists
     * on this backend as the session knows it, inserting a Close and/or Parse of pgrelay's own in
     * front when not, and records what the frame does to the backend's statements.
     */
    void beforeFrame(BackendConnection backend, Request request, int index, ByteBuf frame) {
        String name = request.names.get(index);
        if (name == null) {
            return;
        }
        ServerSessionState state = backend.sessionState();
        switch (Wire.frameType(frame)) {
            case Parse.TYPE -> {
                SessionObjects.PreparedStatement own = objects.statement(name);
                if (request.refusedParses.get(index)) {
                    ensureStatement(backend, name); // the server refuses the client's Parse (42P05)
                    return;
                }
                if (!name.isEmpty() && state.hasStatement(name)) {
                    backend.writeInsertedMessage(Close.statement(name), Close.TYPE);
                }
                state.statementParsed(name, own != null ? own.identity() : StatementIdentity.TRANSIENT);
            }
            case 'B', 'D' -> {
                if (!parsedBefore(request, index, name)) {
                    ensureStatement(backend, name);
                }
            }
            case Close.TYPE -> {
                objects.removeStatement(name);
                state.statementClosed(name);
            }
            default -> {
            }
        }
    }

    private void ensureStatement(BackendConnection backend, String name) {
        SessionObjects.PreparedStatement statement = objects.statement(name);
        ServerSessionState state = backend.sessionState();
        if (statement == null || statement.identity().equals(state.statement(name))) {
            return;
        }
        if (!name.isEmpty() && state.hasStatement(name)) {
            backend.writeInsertedMessage(Close.statement(name), Close.TYPE);
        }
        backend.writeInsertedMessage(statement.identity().toParse(), Parse.TYPE);
        state.statementParsed(name, statement.identity());
    }

    private static boolean parsedBefore(Request request, int index, String name) {
        for (int i = 0; i < index; i++) {
            if (Wire.frameType(request.frames.get(i)) == Parse.TYPE && name.equals(request.names.get(i))) {
                return true;
            }
        }
        return false;
    }
}
