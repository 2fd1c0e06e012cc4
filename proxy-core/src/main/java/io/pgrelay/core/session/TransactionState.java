package io.pgrelay.core.session;

import io.pgrelay.core.classify.TransactionModes;
import io.pgrelay.protocol.message.backend.ReadyForQuery.TransactionStatus;

/**
 * Where a session is between transactions, as its client sees it: the status byte of the last
 * ReadyForQuery (its only source of truth), a BEGIN pgrelay answered itself and has not sent
 * yet, an extended-protocol batch not yet closed by a Sync, and a transaction whose server died.
 */
final class TransactionState {
    TransactionStatus status = TransactionStatus.IDLE;
    /** A BEGIN answered by pgrelay and not sent yet: the next statement decides where the transaction runs. */
    TransactionModes deferredBegin;
    /** Extended-protocol messages went out without a Sync yet. */
    boolean extendedOpen;
    final LostTransaction lost = new LostTransaction();

    boolean inTransaction() {
        return status != TransactionStatus.IDLE;
    }

    /** Nothing open: no transaction (sent or deferred), no batch. */
    boolean idle() {
        return status == TransactionStatus.IDLE && !extendedOpen && deferredBegin == null;
    }
}
