package io.pgrelay.core.session;

import io.pgrelay.core.classify.Classification;
import io.pgrelay.core.classify.Effects;
import io.pgrelay.core.classify.Route;
import io.pgrelay.core.classify.StatementInfo;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Turns the classifier's per-statement analysis into the commands the session tracks. */
final class ClassifierSessionCommands {
    private ClassifierSessionCommands() {
    }

    static List<SessionCommand> of(List<StatementInfo> statements) {
        List<SessionCommand> commands = new ArrayList<>(statements.size());
        for (StatementInfo statement : statements) {
            add(statement, commands);
        }
        return commands;
    }

    private static void add(StatementInfo statement, List<SessionCommand> commands) {
        Classification classification = statement.classification();
        StatementInfo.Details details = statement.details();
        String command = statement.command() == null ? "" : statement.command();
        if (details instanceof StatementInfo.SetDetails set) {
            if (set.local()) {
                return;
            }
            if (set.resetAll()) {
                commands.add(new SessionCommand.ResetAll());
            } else if (set.reset()) {
                commands.add(new SessionCommand.Reset(set.name()));
            } else if ("FROM CURRENT".equalsIgnoreCase(set.value())) {
                commands.add(new SessionCommand.Untracked(statement.text()));
            } else {
                commands.add(new SessionCommand.Set(set.name(), statement.text()));
            }
        } else if (details instanceof StatementInfo.BeginDetails begin) {
            if (begin.sessionCharacteristics()) {
                commands.add(new SessionCommand.Set("session characteristics", statement.text()));
            } else if (begin.setTransaction()) {
                commands.add(new SessionCommand.SetTransaction(Boolean.TRUE.equals(begin.readOnly())));
            } else {
                boolean serializable = "serializable".equalsIgnoreCase(begin.isolation());
                commands.add(new SessionCommand.Begin(statement.text(), Boolean.TRUE.equals(begin.readOnly()),
                        Boolean.FALSE.equals(begin.readOnly()), serializable, true));
            }
        } else if (details instanceof StatementInfo.PrepareDetails prepare) {
            commands.add(new SessionCommand.Prepare(prepare.name(), statement.text(),
                    prepare.classification() == null || prepare.classification().route() == Route.PRIMARY));
        } else if (details instanceof StatementInfo.ExecuteDetails execute) {
            commands.add(new SessionCommand.Execute(execute.name()));
        } else if (details instanceof StatementInfo.DeallocateDetails deallocate) {
            commands.add(new SessionCommand.Deallocate(deallocate.name()));
        } else if (details instanceof StatementInfo.DeclareDetails declare) {
            commands.add(new SessionCommand.DeclareCursor(declare.name(), declare.withHold()));
        } else if (details instanceof StatementInfo.CloseDetails close) {
            commands.add(new SessionCommand.CloseCursor(close.name()));
        } else if (details instanceof StatementInfo.ListenDetails listen) {
            if (listen.listen()) {
                commands.add(new SessionCommand.Listen(listen.channel()));
            } else {
                commands.add(new SessionCommand.Unlisten("*".equals(listen.channel()) ? null : listen.channel()));
            }
        } else if (details instanceof StatementInfo.DiscardDetails discard) {
            commands.add(new SessionCommand.Discard(discard.what()));
        } else if (details instanceof StatementInfo.SetConfigDetails setConfig) {
            if (!setConfig.tracked()) {
                commands.add(new SessionCommand.Untracked(statement.text()));
            } else if (!setConfig.isLocal()) {
                commands.add(new SessionCommand.Set(setConfig.name(), "SELECT pg_catalog.set_config("
                        + SqlLiterals.literal(setConfig.name()) + ", " + SqlLiterals.literal(setConfig.value())
                        + ", false)"));
            }
        } else if (details instanceof StatementInfo.PgRelaySettingDetails setting) {
            commands.add(new SessionCommand.ProxySetting(setting.name(),
                    "set".equals(setting.op()) ? setting.value() : null, "show".equals(setting.op())));
        } else if (classification.has(Effects.COMMIT_ROLLBACK)) {
            String upper = command.toUpperCase(Locale.ROOT);
            boolean rollback = upper.startsWith("ROLLBACK") || upper.startsWith("ABORT");
            boolean chain = statement.text().toUpperCase(Locale.ROOT).contains("CHAIN");
            if (!chain) {
                commands.add(new SessionCommand.EndTransaction(rollback, rollback ? "ROLLBACK" : "COMMIT"));
            } else {
                commands.add(new SessionCommand.EndTransaction(rollback, null));
            }
        }
        if (classification.has(Effects.TEMP_OBJECT)) {
            commands.add(new SessionCommand.TempObject());
        }
        if (classification.has(Effects.ADVISORY_LOCK)) {
            commands.add(new SessionCommand.AdvisoryLock());
        }
        if (classification.has(Effects.ADVISORY_UNLOCK)) {
            commands.add(new SessionCommand.AdvisoryUnlock(
                    statement.text().toLowerCase(Locale.ROOT).contains("unlock_all")));
        }
    }
}
