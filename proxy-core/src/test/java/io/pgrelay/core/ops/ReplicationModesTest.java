package io.pgrelay.core.ops;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ReplicationModesTest {
    @Test
    void modesMapOntoSynchronousStandbyNames() {
        List<String> names = List.of("pg2", "pg3");
        assertThat(ReplicationModes.standbyNames(ReplicationMode.ASYNC, names)).isEmpty();
        assertThat(ReplicationModes.standbyNames(ReplicationModes.parse("semi-sync", null, 2), names))
                .isEqualTo("ANY 1 (\"pg2\", \"pg3\")");
        assertThat(ReplicationModes.standbyNames(ReplicationModes.parse("sync", null, 2), names))
                .isEqualTo("FIRST 2 (\"pg2\", \"pg3\")");
        // after a failover one standby is left: acks are capped, sync waits for all that remain
        assertThat(ReplicationModes.standbyNames(new ReplicationMode("semi-sync", 2), List.of("pg3")))
                .isEqualTo("ANY 1 (\"pg3\")");
        assertThat(ReplicationModes.standbyNames(new ReplicationMode("sync", 2), List.of("pg3")))
                .isEqualTo("FIRST 1 (\"pg3\")");
        assertThat(ReplicationModes.standbyNames(new ReplicationMode("sync", 2), List.of("we\"ird")))
                .isEqualTo("FIRST 1 (\"we\"\"ird\")");
    }

    @Test
    void invalidRequestsAreRefused() {
        assertThatThrownBy(() -> ReplicationModes.parse("fast", null, 2)).isInstanceOf(OperationException.class)
                .hasMessageContaining("unknown replication mode");
        assertThatThrownBy(() -> ReplicationModes.parse("semi-sync", 0, 2))
                .satisfies(e -> assertThat(((OperationException) e).kind()).isEqualTo(OperationException.Kind.BAD_REQUEST));
        assertThatThrownBy(() -> ReplicationModes.parse("semi-sync", 3, 2))
                .satisfies(e -> assertThat(((OperationException) e).kind()).isEqualTo(OperationException.Kind.CONFLICT));
        assertThatThrownBy(() -> ReplicationModes.parse("sync", null, 0)).isInstanceOf(OperationException.class);
    }

    @Test
    void hookPlaceholdersAreShellQuoted() {
        String command = FailoverHooks.expand("notify {event} {old_primary} {new_host}:{new_port}", "failover",
                Map.of("old_primary", "pg1; rm -rf /", "new_host", "10.0.0.2", "new_port", "5432"));
        assertThat(command).isEqualTo("notify 'failover' 'pg1; rm -rf /' '10.0.0.2':'5432'");
        assertThat(FailoverHooks.shellQuote("it's")).isEqualTo("'it'\\''s'");
    }
}
