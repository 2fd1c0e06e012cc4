package io.pgrelay.core.classify;

import io.pgrelay.core.classify.TransactionModes.Access;
import io.pgrelay.core.classify.TransactionModes.Deferrable;
import io.pgrelay.core.classify.TransactionModes.Isolation;

import static io.pgrelay.core.classify.SqlLexer.COMMA;

/** BEGIN, COMMIT, ROLLBACK, savepoints, SET TRANSACTION, two-phase commit. */
final class TransactionStatements extends StatementFamily {
    TransactionStatements(StatementAnalyzer analyzer) {
        super(analyzer);
    }

    void begin(StatementBuilder s, int from, int to) {
        int i = from + 1;
        if (is(from, "start")) {
            if (!is(i, "transaction")) {
                s.reason = "unknown statement START";
                return;
            }
            s.command = "START TRANSACTION";
            i++;
        } else if (is(i, "work") || is(i, "transaction")) {
            i++;
        }
        s.kind = StatementKind.TRANSACTION;
        TransactionModes modes = modes(i, to);
        s.effect(new SessionEffect.Begin(modes));
        if (modes.readOnly() && !modes.serializable()) {
            s.route = Route.REPLICA;
            s.reason = "read-only transaction start";
        } else {
            s.route = Route.PRIMARY;
            s.reason = modes.serializable() ? "SERIALIZABLE transaction (refused on a standby)"
                    : modes.access() == Access.READ_WRITE ? "READ WRITE transaction start"
                    : "read-write transaction start";
            s.softTxnStart = modes.access() == Access.DEFAULT && !modes.serializable();
        }
    }

    void commitRollback(StatementBuilder s, int from, int to) {
        s.kind = StatementKind.TRANSACTION;
        s.route = Route.REPLICA;
        boolean rollback = is(from, "rollback") || is(from, "abort");
        if (is(from + 1, "prepared")) {
            s.command = s.command + " PREPARED";
            s.route = Route.PRIMARY;
            s.reason = s.command + " (two-phase commit)";
            return;
        }
        int i = from + 1;
        if (is(i, "work") || is(i, "transaction")) {
            i++;
        }
        if (rollback && is(i, "to")) {
            s.command = "ROLLBACK TO";
            s.reason = "ROLLBACK TO SAVEPOINT";
            int name = is(i + 1, "savepoint") ? i + 2 : i + 1;
            s.effect(new SessionEffect.RollbackToSavepoint(isAnyName(name) ? name(name) : ""));
            return;
        }
        s.reason = rollback ? "ROLLBACK" : "COMMIT";
        boolean chain = false;
        for (int j = i; j < to; j++) {
            if (is(j, "chain") && !is(j - 1, "no")) {
                chain = true;
            }
        }
        s.closesTxn = !chain;
        s.effect(new SessionEffect.EndTransaction(rollback ? SessionEffect.Ending.ROLLBACK
                : SessionEffect.Ending.COMMIT, chain));
    }

    void savepoint(StatementBuilder s, int from, int to) {
        s.kind = StatementKind.TRANSACTION;
        s.route = Route.REPLICA;
        s.reason = s.command;
        if (is(from, "savepoint")) {
            s.effect(new SessionEffect.Savepoint(isAnyName(from + 1) ? name(from + 1) : ""));
        } else {
            int name = is(from + 1, "savepoint") ? from + 2 : from + 1;
            s.effect(new SessionEffect.ReleaseSavepoint(isAnyName(name) ? name(name) : ""));
        }
    }

    void prepareTransaction(StatementBuilder s) {
        s.command = "PREPARE TRANSACTION";
        s.kind = StatementKind.TRANSACTION;
        s.route = Route.PRIMARY;
        s.reason = "PREPARE TRANSACTION (two-phase commit)";
        s.effect(new SessionEffect.EndTransaction(SessionEffect.Ending.PREPARE, false));
    }

    /**
     * SET TRANSACTION and SET SESSION CHARACTERISTICS AS TRANSACTION; false when the SET at
     * {@code from} is neither.
     */
    boolean setTransaction(StatementBuilder s, int from, int to) {
        int i = from + 1;
        boolean characteristics = is(i, "session") && is(i + 1, "characteristics");
        if (!characteristics && !is(i, "transaction")) {
            return false;
        }
        s.command = characteristics ? "SET SESSION CHARACTERISTICS" : "SET TRANSACTION";
        s.kind = StatementKind.TRANSACTION;
        if (is(i + 1, "snapshot")) {
            s.route = Route.PRIMARY;
            s.reason = "SET TRANSACTION SNAPSHOT (session-dependent)";
            return true;
        }
        TransactionModes modes = modes(characteristics ? i + 4 : i + 1, to);
        if (characteristics) {
            s.route = Route.PRIMARY;
            s.reason = "SET SESSION CHARACTERISTICS AS TRANSACTION";
            characteristics(s, modes);
        } else {
            s.effect(new SessionEffect.SetTransaction(modes));
            if (modes.access() == Access.READ_WRITE || modes.serializable()) {
                s.route = Route.PRIMARY;
                s.reason = modes.access() == Access.READ_WRITE ? "SET TRANSACTION READ WRITE"
                        : "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE";
            } else {
                s.route = Route.REPLICA;
                s.reason = "SET TRANSACTION";
            }
        }
        return true;
    }

    /** SET SESSION CHARACTERISTICS sets the default_transaction_* settings. */
    private static void characteristics(StatementBuilder s, TransactionModes modes) {
        if (modes.isolation() == Isolation.UNKNOWN) {
            s.effect(new SessionEffect.UntrackedSetting("SET SESSION CHARACTERISTICS not understood"));
            return;
        }
        if (modes.isolation() != Isolation.DEFAULT) {
            setting(s, "default_transaction_isolation", "'" + modes.isolation().settingValue() + "'");
        }
        if (modes.access() != Access.DEFAULT) {
            setting(s, "default_transaction_read_only", modes.access() == Access.READ_ONLY ? "on" : "off");
        }
        if (modes.deferrable() != Deferrable.DEFAULT) {
            setting(s, "default_transaction_deferrable", modes.deferrable() == Deferrable.DEFERRABLE ? "on" : "off");
        }
    }

    private static void setting(StatementBuilder s, String name, String value) {
        s.effect(new SessionEffect.SetSetting(name, SessionEffect.Scope.SESSION, "SET " + name + " = " + value));
    }

    private TransactionModes modes(int i, int to) {
        Access access = Access.DEFAULT;
        Isolation isolation = Isolation.DEFAULT;
        Deferrable deferrable = Deferrable.DEFAULT;
        while (i < to) {
            if (k(i) == COMMA) {
                i++;
            } else if (is(i, "isolation") && is(i + 1, "level")) {
                if (is(i + 2, "serializable")) {
                    isolation = Isolation.SERIALIZABLE;
                    i += 3;
                } else if (is(i + 2, "repeatable") && is(i + 3, "read")) {
                    isolation = Isolation.REPEATABLE_READ;
                    i += 4;
                } else if (is(i + 2, "read") && is(i + 3, "committed")) {
                    isolation = Isolation.READ_COMMITTED;
                    i += 4;
                } else if (is(i + 2, "read") && is(i + 3, "uncommitted")) {
                    isolation = Isolation.READ_UNCOMMITTED;
                    i += 4;
                } else {
                    isolation = Isolation.UNKNOWN;
                    i += 3;
                }
            } else if (is(i, "read") && is(i + 1, "only")) {
                access = Access.READ_ONLY;
                i += 2;
            } else if (is(i, "read") && is(i + 1, "write")) {
                access = Access.READ_WRITE;
                i += 2;
            } else if (is(i, "not") && is(i + 1, "deferrable")) {
                deferrable = Deferrable.NOT_DEFERRABLE;
                i += 2;
            } else if (is(i, "deferrable")) {
                deferrable = Deferrable.DEFERRABLE;
                i++;
            } else {
                // a mode not understood: as strict as it gets
                access = Access.READ_WRITE;
                isolation = Isolation.UNKNOWN;
                i++;
            }
        }
        return new TransactionModes(access, isolation, deferrable);
    }
}
