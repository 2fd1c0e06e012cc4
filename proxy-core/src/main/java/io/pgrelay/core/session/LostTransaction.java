package io.pgrelay.core.session;

import io.pgrelay.core.classify.SessionEffect;
import io.pgrelay.protocol.SqlState;
import io.pgrelay.protocol.message.backend.ErrorResponse;


/**
 * A transaction whose server died. The client gets 08006 (with the outstanding reply, or with
 * its next statement) and then, as in any aborted transaction, 25P02 until it ends the
 * transaction; a COMMIT of such a transaction is an error, never a success. Then the session
 * goes on wherever its next transaction can run.
 */
final class LostTransaction {
    private boolean lost;
    /** Why the transaction was lost, while the client has not been told yet. */
    private String untold;

    boolean lost() {
        return lost;
    }

    /** The server running an open transaction died; {@code told}: the client already got an error for it. */
    void serverDied(String reason, boolean told) {
        lost = true;
        untold = told ? null : reason;
    }

    /**
     * The answer to a request in a lost transaction; {@code ended} is set when the request ends
     * the transaction, after which the session is idle.
     */
    LocalReplies.Result answer(Request request, boolean[] ended) {
        boolean ends = !request.executed.isEmpty();
        boolean commits = false;
        for (var statement : request.executed) {
            SessionEffect.EndTransaction end = statement.effect(SessionEffect.EndTransaction.class);
            ends &= end != null;
            commits |= end != null && end.ending() != SessionEffect.Ending.ROLLBACK;
        }
        String reason = untold;
        untold = null;
        if (ends) {
            lost = false;
            ended[0] = true;
            if (commits && reason != null) {
                return new LocalReplies.Result.Failed(ErrorResponse.error(SqlState.CONNECTION_FAILURE, "the database "
                        + "server running this transaction was lost (" + reason + "); the transaction was not committed"));
            }
            return new LocalReplies.Result.Done("ROLLBACK");
        }
        if (reason != null) {
            return new LocalReplies.Result.Failed(ErrorResponse.error(SqlState.CONNECTION_FAILURE, "the database server "
                    + "running this transaction was lost (" + reason + "); the transaction is rolled back: end it and retry"));
        }
        return new LocalReplies.Result.Failed(ErrorResponse.error(SqlState.IN_FAILED_SQL_TRANSACTION,
                "current transaction is aborted, commands ignored until end of transaction block"));
    }

    /** The error the outstanding replies are replaced with. */
    static ErrorResponse lostReply(String reason, boolean inTransaction) {
        return ErrorResponse.error(SqlState.CONNECTION_FAILURE, "the database server running this "
                + (inTransaction ? "transaction" : "statement") + " was lost (" + reason + ")"
                + (inTransaction ? "; the transaction is rolled back: end it and retry" : "; retry"));
    }
}
