package io.pgrelay.core.console;

import io.pgrelay.core.console.ConsoleCommand.Verb;
import io.pgrelay.protocol.SqlState;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConsoleCommandTest {
    @Test
    void showCommandsAreCaseInsensitive() {
        assertThat(ConsoleCommand.parse("show nodes").verb()).isEqualTo(Verb.SHOW_NODES);
        assertThat(ConsoleCommand.parse("SHOW   Pools").verb()).isEqualTo(Verb.SHOW_POOLS);
        assertThat(ConsoleCommand.parse("Show clients").verb()).isEqualTo(Verb.SHOW_CLIENTS);
        assertThat(ConsoleCommand.parse("SHOW STATS").verb()).isEqualTo(Verb.SHOW_STATS);
        assertThat(ConsoleCommand.parse("SHOW CONFIG").verb()).isEqualTo(Verb.SHOW_CONFIG);
        assertThat(ConsoleCommand.parse("SHOW VERSION").verb()).isEqualTo(Verb.SHOW_VERSION);
        assertThat(ConsoleCommand.parse("show help").verb()).isEqualTo(Verb.SHOW_HELP);
    }

    @Test
    void mutatingCommandsKeepTheCaseOfNames() {
        assertThat(ConsoleCommand.parse("switchover")).isEqualTo(ConsoleCommand.of(Verb.SWITCHOVER));
        assertThat(ConsoleCommand.parse("SWITCHOVER TO Pg2")).isEqualTo(ConsoleCommand.named(Verb.SWITCHOVER, "Pg2"));
        assertThat(ConsoleCommand.parse("failover to pg3")).isEqualTo(ConsoleCommand.named(Verb.FAILOVER, "pg3"));
        assertThat(ConsoleCommand.parse("drain pg2")).isEqualTo(ConsoleCommand.named(Verb.DRAIN, "pg2"));
        assertThat(ConsoleCommand.parse("ENABLE pg2")).isEqualTo(ConsoleCommand.named(Verb.ENABLE, "pg2"));
        assertThat(ConsoleCommand.parse("fence \"node one\"")).isEqualTo(ConsoleCommand.named(Verb.FENCE, "node one"));
        assertThat(ConsoleCommand.parse("UNFENCE 'it''s'")).isEqualTo(ConsoleCommand.named(Verb.UNFENCE, "it's"));
        assertThat(ConsoleCommand.parse("remove node pg4")).isEqualTo(ConsoleCommand.named(Verb.REMOVE_NODE, "pg4"));
        assertThat(ConsoleCommand.parse("ADD NODE pg4 10.0.0.4 5433 2"))
                .isEqualTo(new ConsoleCommand(Verb.ADD_NODE, "pg4", "10.0.0.4", 5433, 2, null, null, null));
        assertThat(ConsoleCommand.parse("add node pg4 db4 5432"))
                .isEqualTo(new ConsoleCommand(Verb.ADD_NODE, "pg4", "db4", 5432, null, null, null, null));
    }

    @Test
    void replicationModes() {
        assertThat(ConsoleCommand.parse("SET REPLICATION MODE async"))
                .isEqualTo(new ConsoleCommand(Verb.SET_REPLICATION_MODE, null, null, null, null, "async", null, null));
        assertThat(ConsoleCommand.parse("set replication mode SEMI-SYNC 2"))
                .isEqualTo(new ConsoleCommand(Verb.SET_REPLICATION_MODE, null, null, null, null, "semi-sync", 2, null));
        assertThat(ConsoleCommand.parse("SET REPLICATION MODE semi-sync").acks()).isNull();
        assertThat(ConsoleCommand.parse("SET REPLICATION MODE sync").mode()).isEqualTo("sync");
        assertThat(ConsoleCommand.parse("SET application_name = 'my app'")).isEqualTo(
                new ConsoleCommand(Verb.SET_PARAMETER, "application_name", null, null, null, null, null, "my app"));
        assertThat(ConsoleCommand.parse("set SESSION Extra_Float_Digits to 3")).isEqualTo(
                new ConsoleCommand(Verb.SET_PARAMETER, "extra_float_digits", null, null, null, null, null, "3"));
        assertSyntaxError("SET REPLICATION async", "usage: SET REPLICATION MODE");
        assertSyntaxError("SET REPLICATION MODE fast", "usage: SET REPLICATION MODE");
        assertSyntaxError("SET REPLICATION MODE sync 2", "usage: SET REPLICATION MODE");
        assertSyntaxError("SET REPLICATION MODE semi-sync 0", "usage: SET REPLICATION MODE");
    }

    @Test
    void errorsNameTheCommandsOrTheUsage() {
        assertSyntaxError("SELECT 1", "console commands: SHOW NODES");
        assertSyntaxError("SHOW", "console commands: SHOW NODES");
        assertSyntaxError("SHOW TABLES", "console commands: SHOW NODES");
        assertSyntaxError("SHOW NODES NOW", "console commands: SHOW NODES");
        assertSyntaxError("DRAIN", "usage: DRAIN node");
        assertSyntaxError("SWITCHOVER pg2", "usage: SWITCHOVER [TO node]");
        assertSyntaxError("REMOVE pg2", "usage: REMOVE NODE node");
        assertSyntaxError("ADD NODE pg4 host", "usage: ADD NODE name host port [weight]");
        assertSyntaxError("ADD NODE pg4 host port", "usage: ADD NODE name host port [weight]");
        assertSyntaxError("ADD NODE pg4 host 70000", "usage: ADD NODE name host port [weight]");
        assertSyntaxError("FENCE \"open", "console commands");
    }

    @Test
    void splitsOnSemicolonsOutsideQuotes() {
        assertThat(ConsoleCommand.split("SHOW NODES; show pools ;")).containsExactly("SHOW NODES", "show pools");
        assertThat(ConsoleCommand.split("FENCE \"a;b\"; SHOW NODES")).containsExactly("FENCE \"a;b\"", "SHOW NODES");
        assertThat(ConsoleCommand.split(" ; ;\n")).isEmpty();
    }

    private static void assertSyntaxError(String statement, String hint) {
        assertThatThrownBy(() -> ConsoleCommand.parse(statement))
                .isInstanceOfSatisfying(ConsoleException.class, e -> {
                    assertThat(e.sqlState()).isEqualTo(SqlState.SYNTAX_ERROR);
                    assertThat(e.toErrorResponse().fields().get((byte) 'H')).contains(hint);
                });
    }
}
