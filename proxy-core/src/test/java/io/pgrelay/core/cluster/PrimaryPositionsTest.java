package io.pgrelay.core.cluster;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class PrimaryPositionsTest {
    /** A query that blocks until released, returning the number of the query as its position. */
    static final class GatedQuery implements PrimaryPositions.Query {
        final AtomicInteger started = new AtomicInteger();
        volatile CountDownLatch gate = new CountDownLatch(1);
        final CountDownLatch firstStarted = new CountDownLatch(1);

        @Override
        public void fetch(PrimaryPosition.Listener into) throws InterruptedException {
            int n = started.incrementAndGet();
            firstStarted.countDown();
            assertThat(gate.await(5, TimeUnit.SECONDS)).isTrue();
            into.position(n * 0x100L, 1);
        }
    }

    @Test
    void requestsThatArriveDuringAQueryShareTheNextOneNeverTheRunningOne() throws Exception {
        GatedQuery query = new GatedQuery();
        List<Long> answers = java.util.Collections.synchronizedList(new ArrayList<>());
        CountDownLatch answered = new CountDownLatch(11);
        try (PrimaryPositions positions = new PrimaryPositions(query)) {
            positions.request((lsn, tl) -> {
                answers.add(lsn);
                answered.countDown();
            });
            assertThat(query.firstStarted.await(5, TimeUnit.SECONDS)).isTrue();
            for (int i = 0; i < 10; i++) {
                positions.request((lsn, tl) -> {
                    answers.add(lsn);
                    answered.countDown();
                });
            }
            query.gate.countDown();
            assertThat(answered.await(5, TimeUnit.SECONDS)).isTrue();
            assertThat(answers.get(0)).isEqualTo(0x100L);
            assertThat(answers.subList(1, 11)).as("reads that began during query 1 get query 2's position")
                    .containsOnly(0x200L);
            assertThat(positions.queries()).as("ten reads, one query").isEqualTo(2);
            assertThat(positions.requests()).isEqualTo(11);
        }
    }

    @Test
    void aFailedQueryAnswersUnknownAndTheNextOneTriesAgain() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        PrimaryPositions.Query query = into -> {
            if (calls.incrementAndGet() == 1) {
                throw new java.sql.SQLException("primary gone");
            }
            into.position(0x42L, 3);
        };
        try (PrimaryPositions positions = new PrimaryPositions(query)) {
            assertThat(ask(positions)).containsExactly(Lsn.INVALID, 0L);
            assertThat(ask(positions)).containsExactly(0x42L, 3L);
        }
    }

    @Test
    void afterCloseEveryRequestIsAnsweredUnknown() throws Exception {
        PrimaryPositions positions = new PrimaryPositions(into -> into.position(0x42L, 1));
        positions.close();
        assertThat(ask(positions)).containsExactly(Lsn.INVALID, 0L);
    }

    private static long[] ask(PrimaryPositions positions) throws InterruptedException {
        long[] result = new long[2];
        CountDownLatch done = new CountDownLatch(1);
        positions.request((lsn, tl) -> {
            result[0] = lsn;
            result[1] = tl;
            done.countDown();
        });
        assertThat(done.await(5, TimeUnit.SECONDS)).isTrue();
        return result;
    }

    @Test
    void anInsertPositionPastAPageHeaderMovesBackOntoTheBoundary() {
        assertThat(PrimaryPositionQuery.endOfWal(0x3002018L, 0x2018, 8192)).as("short header").isEqualTo(0x3002000L);
        assertThat(PrimaryPositionQuery.endOfWal(0x4000028L, 40, 8192)).as("first page of a segment")
                .isEqualTo(0x4000000L);
        assertThat(PrimaryPositionQuery.endOfWal(0x3002060L, 0x2060, 8192)).as("inside a page").isEqualTo(0x3002060L);
        assertThat(PrimaryPositionQuery.endOfWal(0x3004018L, 0x4018, 16384)).isEqualTo(0x3004000L);
    }
}
