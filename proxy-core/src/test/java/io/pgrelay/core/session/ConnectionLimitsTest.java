package io.pgrelay.core.session;

import io.netty.channel.embedded.EmbeddedChannel;
import io.pgrelay.core.config.LimitsConfig;
import io.pgrelay.protocol.PgProtocolException;
import io.pgrelay.protocol.SqlState;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConnectionLimitsTest {
    private final ConnectionLimits limits = new ConnectionLimits(new LimitsConfig(3, 0, Map.of("batch", 1),
            Map.of("reports", 1), null, null, null));

    @Test
    void aUserPastItsLimitGets53300AndAClosedConnectionFreesItsPlace() {
        EmbeddedChannel first = new EmbeddedChannel();
        limits.admit(first, "batch", "app");

        assertThatThrownBy(() -> limits.admit(new EmbeddedChannel(), "batch", "app"))
                .isInstanceOf(PgProtocolException.class)
                .hasMessage("too many connections for role \"batch\"")
                .satisfies(e -> assertThat(((PgProtocolException) e).sqlState()).isEqualTo(SqlState.TOO_MANY_CONNECTIONS));
        assertThat(limits.connectionsOf("batch")).isEqualTo(1);

        first.close();
        limits.admit(new EmbeddedChannel(), "batch", "app");
        assertThat(limits.connectionsOf("batch")).isEqualTo(1);
    }

    @Test
    void theGeneralUserLimitAppliesToUsersWithoutTheirOwn() {
        for (int i = 0; i < 3; i++) {
            limits.admit(new EmbeddedChannel(), "app", "app");
        }
        assertThatThrownBy(() -> limits.admit(new EmbeddedChannel(), "app", "app"))
                .hasMessage("too many connections for role \"app\"");
    }

    @Test
    void aDatabasePastItsLimitIsRefusedWithoutCountingTheUser() {
        limits.admit(new EmbeddedChannel(), "app", "reports");

        assertThatThrownBy(() -> limits.admit(new EmbeddedChannel(), "app", "reports"))
                .hasMessage("too many connections for database \"reports\"");
        assertThat(limits.connectionsOf("app")).isEqualTo(1);
    }

    @Test
    void aReloadKeepsTheCountsAndAppliesTheNewLimitsToNewClients() {
        limits.admit(new EmbeddedChannel(), "batch", "app");

        ConnectionLimits same = limits.withLimits(new LimitsConfig(3, 0, Map.of("batch", 1), Map.of(), null, null, null));
        assertThatThrownBy(() -> same.admit(new EmbeddedChannel(), "batch", "app"))
                .as("a reload must not hand out the user's limit again")
                .hasMessage("too many connections for role \"batch\"");

        ConnectionLimits raised = limits.withLimits(new LimitsConfig(3, 0, Map.of("batch", 2), Map.of(), null, null, null));
        raised.admit(new EmbeddedChannel(), "batch", "app");
        assertThat(raised.connectionsOf("batch")).isEqualTo(2);
        assertThat(limits.connectionsOf("batch")).as("one count, whichever limits admitted the client").isEqualTo(2);
        assertThatThrownBy(() -> raised.admit(new EmbeddedChannel(), "batch", "app"))
                .hasMessage("too many connections for role \"batch\"");
    }
}
