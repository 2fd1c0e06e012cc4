package io.pgrelay.server.relay;

import io.pgrelay.server.testing.TestProxy;
import io.pgrelay.testkit.Processes;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** psql, libpq's own client, through pgrelay. */
class PsqlIT {
    private static TestProxy proxy;

    @BeforeAll
    static void start() {
        proxy = TestProxy.shared();
    }

    private static Processes.Result psql(String... args) {
        List<String> command = new ArrayList<>();
        command.add(Processes.pgProgram("psql"));
        command.add(proxy.libpqUri("app", "app", "app") + "?sslmode=disable");
        command.add("-X");
        command.addAll(List.of(args));
        return Processes.run(command, Map.of(), null, Duration.ofSeconds(60));
    }

    private static Processes.Result psqlScript(String script, String... args) {
        List<String> command = new ArrayList<>();
        command.add(Processes.pgProgram("psql"));
        command.add(proxy.libpqUri("app", "app", "app") + "?sslmode=disable");
        command.add("-X");
        command.addAll(List.of(args));
        return Processes.run(command, Map.of(), script, Duration.ofSeconds(60));
    }

    @Test
    void connectsAsScramUserAndAnswersFromThePrimaryWhenAsked() {
        Processes.Result result = psql("-Atc", "/* pgrelay:primary */ SELECT current_setting('port')::int");
        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.stdout().trim()).isEqualTo(String.valueOf(proxy.cluster().primary().port()));
    }

    @Test
    void copyBothWays(@TempDir Path dir) throws Exception {
        Path input = dir.resolve("in.csv");
        StringBuilder csv = new StringBuilder();
        for (int i = 1; i <= 5000; i++) {
            csv.append(i).append(",name ").append(i).append('\n');
        }
        Files.writeString(input, csv.toString());
        Path output = dir.resolve("out.csv");
        // The copy out is a read: causal consistency keeps it off a replica that has not yet
        // replayed the copy in (eventual consistency may read a lagging replica).
        Processes.Result result = psqlScript(String.join("\n",
                "SET pgrelay.consistency = causal;",
                "DROP TABLE IF EXISTS psql_copy;",
                "CREATE TABLE psql_copy (id int, name text);",
                "\\copy psql_copy FROM '" + input + "' WITH (FORMAT csv)",
                "\\copy (SELECT * FROM psql_copy ORDER BY id) TO '" + output + "' WITH (FORMAT csv)",
                "SELECT count(*) FROM psql_copy;", ""), "-At", "-v", "ON_ERROR_STOP=1");
        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.stdout()).contains("COPY 5000").contains("5000");
        assertThat(Files.readString(output)).isEqualTo(csv.toString());
    }

    @Test
    void describeCommands() {
        // \\d reads only pg_catalog: causal consistency keeps it off a replica that has not yet
        // replayed the CREATE TABLE.
        Processes.Result d = psqlScript(String.join("\n",
                "SET pgrelay.consistency = causal;",
                "CREATE TABLE IF NOT EXISTS psql_described (id int primary key, note text);",
                "\\d psql_described",
                "\\dt+", ""), "-v", "ON_ERROR_STOP=1");
        assertThat(d.exitCode()).as(d.output()).isZero();
        assertThat(d.stdout()).contains("Table \"public.psql_described\"").contains("note").contains("psql_described_pkey")
                .contains("Size");
    }

    @Test
    void multiStatementStrings() {
        Processes.Result result = psql("-At", "-c", "SELECT 1; SELECT 2; SELECT 'three'");
        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.stdout().lines().toList()).containsExactly("1", "2", "three");
    }

    @Test
    void errorsMidScript() {
        String script = "SELECT 'before';\nSELECT * FROM psql_missing_table;\nSELECT 'after';\n";
        Processes.Result goingOn = psqlScript(script, "-At");
        assertThat(goingOn.exitCode()).isZero();
        assertThat(goingOn.stdout()).contains("before").contains("after");
        assertThat(goingOn.stderr()).contains("psql_missing_table").contains("does not exist");

        Processes.Result stopping = psqlScript(script, "-At", "-v", "ON_ERROR_STOP=1");
        assertThat(stopping.exitCode()).isEqualTo(3);
        assertThat(stopping.stdout()).contains("before").doesNotContain("after");

        Processes.Result transaction = psqlScript(String.join("\n",
                "BEGIN;", "SELECT 1/0;", "SELECT 'ignored';", "ROLLBACK;", "SELECT 'recovered';", ""), "-At");
        assertThat(transaction.stdout()).contains("recovered").doesNotContain("ignored");
        assertThat(transaction.stderr()).contains("division by zero").contains("current transaction is aborted");
    }
}
