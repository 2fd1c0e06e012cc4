package io.pgrelay.core.session;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.pgrelay.core.classify.SessionEffect;
import io.pgrelay.core.classify.StatementFacts;
import io.pgrelay.protocol.SqlState;
import io.pgrelay.protocol.message.backend.ErrorResponse;
import io.pgrelay.protocol.message.backend.ReadyForQuery.TransactionStatus;
import io.pgrelay.protocol.message.backend.RowDescription;

import java.util.ArrayList;
import java.util.List;

/**
 * Answers the requests pgrelay serves itself ({@link Decision.LocalAnswer}): its own settings, a
 * deferred BEGIN and the end of a transaction that never reached a server, Parse-only requests in
 * transaction pooling, a lost transaction, the process id it issued and signals to it.
 */
final class LocalAnswerer {
    /** What came of pg_cancel_backend / pg_terminate_backend of a process id pgrelay issued. */
    enum SignalOutcome { DONE, GONE, DENIED }

    /** Carries out pg_cancel_backend / pg_terminate_backend of a process id pgrelay issued. */
    interface Signals {
        SignalOutcome signal(SessionEffect.SignalBackend signal);
    }

    private final ProxySettings proxySettings;
    private final TransactionState transaction;
    private final SessionSettings settings;
    private final int processId;
    private final Signals signals;

    LocalAnswerer(ProxySettings proxySettings, TransactionState transaction, SessionSettings settings, int processId,
                  Signals signals) {
        this.proxySettings = proxySettings;
        this.transaction = transaction;
        this.settings = settings;
        this.processId = processId;
        this.signals = signals;
    }

    ByteBuf answer(Decision.LocalAnswer answer, Request request, ByteBufAllocator alloc) {
        List<LocalReplies.Result> results = results(answer, request);
        return request.simpleQuery() ? LocalReplies.simple(alloc, results, transaction.status)
                : LocalReplies.extended(alloc, request, results, transaction.status);
    }

    private List<LocalReplies.Result> results(Decision.LocalAnswer answer, Request request) {
        switch (answer) {
            case LOST_TRANSACTION -> {
                boolean[] ended = new boolean[1];
                LocalReplies.Result result = transaction.lost.answer(request, ended);
                if (ended[0]) {
                    transaction.status = TransactionStatus.IDLE;
                    settings.requestEnded(false, true);
                }
                return List.of(result);
            }
            case DEFERRED_BEGIN -> {
                transaction.deferredBegin = request.soleEffect(SessionEffect.Begin.class).modes();
                transaction.status = TransactionStatus.IN_TRANSACTION;
                settings.statementCompleted(request.executed.get(0).effects());
                return List.of(new LocalReplies.Result.Done("BEGIN"));
            }
            case END_OF_DEFERRED -> {
                SessionEffect.EndTransaction end = request.soleEffect(SessionEffect.EndTransaction.class);
                transaction.deferredBegin = null;
                transaction.status = TransactionStatus.IDLE;
                settings.statementCompleted(request.executed.get(0).effects());
                settings.requestEnded(false, false);
                return List.of(new LocalReplies.Result.Done(end.ending().tag()));
            }
            case LOCAL_PREPARE -> {
                return List.of();
            }
            case BACKEND_PID -> {
                return List.of(new LocalReplies.Result.Row(RowDescription.Field.int4("pg_backend_pid"),
                        Integer.toString(processId), "SELECT 1"));
            }
            case SIGNAL_BACKEND -> {
                SessionEffect.SignalBackend signal = request.soleEffect(SessionEffect.SignalBackend.class);
                boolean cancel = signal.signal() == SessionEffect.Signal.CANCEL;
                SignalOutcome outcome = signals.signal(signal);
                if (outcome == SignalOutcome.DENIED) {
                    return List.of(new LocalReplies.Result.Failed(ErrorResponse.error(SqlState.INSUFFICIENT_PRIVILEGE,
                            "permission denied to " + (cancel ? "cancel query" : "terminate process")
                                    + ": only superusers and sessions of the same user may signal it")));
                }
                String column = cancel ? "pg_cancel_backend" : "pg_terminate_backend";
                return List.of(new LocalReplies.Result.Row(RowDescription.Field.bool(column),
                        outcome == SignalOutcome.DONE ? "t" : "f", "SELECT 1"));
            }
            case PROXY_SETTING -> {
                return proxySettings(request);
            }
            default -> throw new IllegalStateException(answer.name());
        }
    }

    /** Every statement must be a pgrelay setting: mixing them with server statements is refused. */
    private List<LocalReplies.Result> proxySettings(Request request) {
        List<LocalReplies.Result> results = new ArrayList<>(request.executed.size());
        for (StatementFacts statement : request.executed) {
            SessionEffect.ProxySetting setting = statement.effect(SessionEffect.ProxySetting.class);
            if (setting == null) {
                results.add(new LocalReplies.Result.Failed(ErrorResponse.error(SqlState.FEATURE_NOT_SUPPORTED,
                        "pgrelay settings must be set in statements of their own")));
                return results;
            }
            results.add(proxySetting(setting));
            if (results.get(results.size() - 1) instanceof LocalReplies.Result.Failed) {
                return results;
            }
        }
        return results;
    }

    private LocalReplies.Result proxySetting(SessionEffect.ProxySetting setting) {
        if (setting.op() == SessionEffect.ProxySettingOp.SHOW) {
            String value = proxySettings.show(setting.name());
            return value == null ? new LocalReplies.Result.Failed(ProxySettings.unknown(setting.name()))
                    : new LocalReplies.Result.Row(RowDescription.Field.text(setting.name()), value, "SHOW");
        }
        ErrorResponse error = proxySettings.set(setting.name(),
                setting.op() == SessionEffect.ProxySettingOp.RESET ? null : setting.value());
        return error != null ? new LocalReplies.Result.Failed(error)
                : new LocalReplies.Result.Done(setting.op() == SessionEffect.ProxySettingOp.RESET ? "RESET" : "SET");
    }
}
