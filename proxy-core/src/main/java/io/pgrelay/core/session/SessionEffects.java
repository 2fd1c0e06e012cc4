package io.pgrelay.core.session;

import io.pgrelay.core.backend.AppliedSettings;
import io.pgrelay.core.backend.ServerSessionState;
import io.pgrelay.core.classify.SessionEffect;
import io.pgrelay.core.classify.StatementFacts;

import java.util.List;

/**
 * Applies the session effects of a request's statements to the session's state, when
 * PostgreSQL would: pins as soon as the request is sent (conservatively: the server may have
 * created the state even if the client never hears back); everything else once the server
 * answered, statement by statement as far as it completed them, with transaction semantics.
 */
final class SessionEffects {
    private final SessionSettings settings;
    private final SessionObjects objects;

    SessionEffects(SessionSettings settings, SessionObjects objects) {
        this.settings = settings;
        this.objects = objects;
    }

    /** What a completed request did to its backend beyond the session's own state. */
    enum Outcome {
        NOTHING,
        /** DISCARD ALL: every other backend the session holds has state the session no longer has. */
        DISCARDED_ALL
    }

    void sent(List<StatementFacts> executed) {
        // Indexed loops: this runs for every request, and iterators are allocations.
        for (int s = 0; s < executed.size(); s++) {
            List<SessionEffect> effects = executed.get(s).effects();
            for (int e = 0; e < effects.size(); e++) {
                SessionEffect effect = effects.get(e);
                if (effect instanceof SessionEffect.CreateTemporaryObject) {
                    objects.pin(SessionObjects.Pin.TEMPORARY_OBJECTS);
                } else if (effect instanceof SessionEffect.Listen listen) {
                    objects.listen(listen.channel());
                } else if (effect instanceof SessionEffect.TakeAdvisoryLock) {
                    objects.pin(SessionObjects.Pin.ADVISORY_LOCKS);
                } else if (effect instanceof SessionEffect.DeclareCursor cursor && cursor.withHold()) {
                    objects.declareHoldCursor(cursor.name());
                } else if (effect instanceof SessionEffect.UntrackedSetting) {
                    objects.pin(SessionObjects.Pin.UNTRACKED_SETTINGS);
                } else if (effect instanceof SessionEffect.LoadLibrary) {
                    objects.pin(SessionObjects.Pin.LOADED_LIBRARY);
                }
            }
        }
    }

    /**
     * The server answered a request: {@code completed} of its {@code executed} statements
     * completed, then it failed ({@code failed}) or not; {@code inTransaction} is its transaction
     * status now. Updates what the backend it ran on holds as well.
     */
    Outcome completed(List<StatementFacts> executed, int completed, boolean failed, boolean inTransaction,
                      ServerSessionState backend) {
        long versionBefore = settings.version();
        Outcome outcome = Outcome.NOTHING;
        int done = Math.min(completed, executed.size());
        for (int i = 0; i < done; i++) {
            List<SessionEffect> effects = executed.get(i).effects();
            settings.statementCompleted(effects);
            for (int e = 0; e < effects.size(); e++) {
                if (objectEffect(effects.get(e), backend)) {
                    outcome = Outcome.DISCARDED_ALL;
                }
            }
        }
        if (failed) {
            settings.statementFailed();
        }
        settings.requestEnded(inTransaction, failed);
        if (settings.version() != versionBefore && !(backend.settings() instanceof AppliedSettings.Unknown)) {
            backend.settings(AppliedSettings.known(settings.stateKey()));
        }
        return outcome;
    }

    /** Applies one effect on objects; true for DISCARD ALL. */
    private boolean objectEffect(SessionEffect effect, ServerSessionState backend) {
        if (effect instanceof SessionEffect.Prepare prepare) {
            objects.putSqlPrepared(new SessionObjects.SqlPrepared(prepare.name(), prepare.replaySql(),
                    prepare.statement().route()));
            backend.sqlPrepared(prepare.name(), prepare.replaySql());
        } else if (effect instanceof SessionEffect.Deallocate deallocate) {
            objects.removeSqlPrepared(deallocate.name());
            backend.sqlDeallocated(deallocate.name());
        } else if (effect instanceof SessionEffect.Unlisten unlisten) {
            objects.unlisten(unlisten.channel());
        } else if (effect instanceof SessionEffect.ReleaseAdvisoryLocks release && release.all()) {
            objects.unpin(SessionObjects.Pin.ADVISORY_LOCKS);
        } else if (effect instanceof SessionEffect.CloseCursor close) {
            objects.closeCursor(close.name());
        } else if (effect instanceof SessionEffect.Discard discard) {
            if (discard.scope() == SessionEffect.DiscardScope.ALL) {
                objects.discardAll();
                backend.statementsForgotten();
                backend.settings(AppliedSettings.UNKNOWN);
                return true;
            }
            if (discard.scope() == SessionEffect.DiscardScope.TEMP) {
                objects.unpin(SessionObjects.Pin.TEMPORARY_OBJECTS);
            }
        } else if (effect instanceof SessionEffect.ResetAll
                || effect instanceof SessionEffect.ResetSetting reset && settings.isStartupSetting(reset.name())) {
            // The server went back to its own default, not to the client's startup value.
            backend.settings(AppliedSettings.UNKNOWN);
        }
        return false;
    }
}
