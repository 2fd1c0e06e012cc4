package io.pgrelay.core.metrics;

import com.codahale.metrics.MetricRegistry;
import io.pgrelay.core.cluster.ClusterState;
import io.pgrelay.core.config.ProxyConfig.NodeConfig;
import io.pgrelay.protocol.message.backend.ReadyForQuery.TransactionStatus;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.pgrelay.protocol.message.backend.ReadyForQuery.TransactionStatus.FAILED;
import static io.pgrelay.protocol.message.backend.ReadyForQuery.TransactionStatus.IDLE;
import static io.pgrelay.protocol.message.backend.ReadyForQuery.TransactionStatus.IN_TRANSACTION;
import static org.assertj.core.api.Assertions.assertThat;

class UnitTimerTest {
    private final ProxyMetrics metrics = new ProxyMetrics(new MetricRegistry(),
            new ClusterState(List.of(new NodeConfig("pg1", "127.0.0.1", 5432, null))));
    private final UnitTimer timer = new UnitTimer();

    private long statements() {
        return metrics.statementLatency().getCount();
    }

    private long transactions() {
        return metrics.transactionLatency().getCount();
    }

    @Test
    void pipelinedUnitsCompleteInOrderAndTheRingGrows() {
        for (int i = 0; i < 21; i++) {
            timer.sent();
        }
        assertThat(timer.inFlight()).isEqualTo(21);
        timer.completed(metrics, IDLE);
        timer.dropOldest();
        for (int i = 0; i < 19; i++) {
            timer.completed(metrics, IDLE);
        }
        assertThat(statements()).isEqualTo(20);
        assertThat(timer.inFlight()).isZero();
        timer.completed(metrics, IDLE);
        assertThat(statements()).isEqualTo(20);
        timer.sent();
        timer.clear();
        assertThat(timer.inFlight()).isZero();
    }

    @Test
    void aTransactionEndsAtTheFirstIdleReadyForQuery() {
        for (TransactionStatus status : List.of(IN_TRANSACTION, IN_TRANSACTION, FAILED, IDLE)) {
            timer.sent();
            timer.completed(metrics, status);
        }
        assertThat(statements()).isEqualTo(4);
        assertThat(transactions()).isEqualTo(1);
        // Outside a transaction block every statement is a transaction of its own.
        timer.sent();
        timer.completed(metrics, IDLE);
        timer.sent();
        timer.completed(metrics, IDLE);
        assertThat(transactions()).isEqualTo(3);
    }

    @Test
    void aLostBackendEndsTheTransactionUnrecorded() {
        timer.sent();
        timer.completed(metrics, IN_TRANSACTION);
        timer.sent();
        timer.clear();
        assertThat(transactions()).isZero();
        timer.sent();
        timer.completed(metrics, IDLE);
        assertThat(transactions()).isEqualTo(1);
        assertThat(statements()).isEqualTo(2);
    }
}
