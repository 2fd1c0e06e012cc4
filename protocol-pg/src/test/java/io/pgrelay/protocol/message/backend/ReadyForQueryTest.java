package io.pgrelay.protocol.message.backend;

import io.pgrelay.protocol.message.backend.ReadyForQuery.TransactionStatus;
import org.junit.jupiter.api.Test;

import static io.pgrelay.protocol.message.MessageAssertions.*;
import static io.pgrelay.testing.Bytes.i32;
import static io.pgrelay.testing.Bytes.of;
import static org.assertj.core.api.Assertions.assertThat;

class ReadyForQueryTest {
    @Test
    void statuses() {
        assertThat(assertRoundTrip(ReadyForQuery.IDLE, of('Z', i32(5), 'I'), ReadyForQuery::decode)).isSameAs(ReadyForQuery.IDLE);
        assertThat(assertRoundTrip(ReadyForQuery.IN_TRANSACTION, of('Z', i32(5), 'T'), ReadyForQuery::decode))
                .isSameAs(ReadyForQuery.IN_TRANSACTION);
        assertThat(assertRoundTrip(ReadyForQuery.FAILED, of('Z', i32(5), 'E'), ReadyForQuery::decode))
                .isSameAs(ReadyForQuery.FAILED);
    }

    @Test
    void unknownStatusIsNotAnError() {
        assertThat(decode(ReadyForQuery::decode, of('X')).status()).isEqualTo(TransactionStatus.UNKNOWN);
    }

    @Test
    void malformed() {
        assertTruncationsFail(ReadyForQuery::decode, of('I'));
        assertTrailingByteFails(ReadyForQuery::decode, of('I'));
    }
}
