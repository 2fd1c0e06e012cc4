package io.pgrelay.core.session;

import io.pgrelay.core.classify.BuiltinCatalog;
import io.pgrelay.core.classify.Classifier;
import io.pgrelay.core.classify.ClassifierConfig;
import io.pgrelay.core.classify.StatementFacts;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Settings kept as PostgreSQL keeps them, as a table: requests of statements (each completes, or
 * the request fails at one of them), then the settings a new backend gets replayed, in order.
 */
class SessionSettingsTest {
    private static final Classifier CLASSIFIER = new Classifier(BuiltinCatalog.get(), ClassifierConfig.defaults());
    private static final String STARTUP = "SELECT pg_catalog.set_config(E'application_name', E'app', false)";

    /**
     * One request: its SQL, how many of its statements complete (-1: all), and the transaction
     * status after it (whether a transaction block is open).
     */
    record Step(String sql, int completed, boolean inTransaction, Map<String, String> reported) {
        Step(String sql, int completed, boolean inTransaction) {
            this(sql, completed, inTransaction, Map.of());
        }
    }

    record Row(String name, List<Step> steps, List<String> replayed) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static Step ok(String sql) {
        return new Step(sql, -1, false);
    }

    /** A request after which the server reported {@code setting} = {@code value} (ParameterStatus). */
    private static Step reporting(String sql, String setting, String value) {
        return new Step(sql, -1, false, Map.of(setting, value));
    }

    private static Step inTx(String sql) {
        return new Step(sql, -1, true);
    }

    private static Step failsAt(String sql, int statement, boolean inTransaction) {
        return new Step(sql, statement, inTransaction);
    }

    private static Row row(String name, List<Step> steps, String... replayed) {
        return new Row(name, steps, List.of(replayed));
    }

    static Stream<Row> rows() {
        return Stream.of(
                row("a SET lasts", List.of(ok("SET search_path = a")), "SET search_path = a"),
                row("the last value wins, in the order of change", List.of(ok("SET search_path = a"),
                        ok("SET work_mem = '1MB'"), ok("SET search_path = b")), "SET work_mem = '1MB'",
                        "SET search_path = b"),
                row("RESET forgets", List.of(ok("SET search_path = a"), ok("RESET search_path"))),
                row("SET LOCAL never outlives its transaction", List.of(inTx("BEGIN"), inTx("SET LOCAL search_path = a"),
                        ok("COMMIT"))),
                row("a SET in a committed transaction lasts", List.of(inTx("BEGIN"), inTx("SET search_path = a"),
                        ok("COMMIT")), "SET search_path = a"),
                row("a SET in a rolled back transaction does not", List.of(ok("SET search_path = a"), inTx("BEGIN"),
                        inTx("SET search_path = b"), ok("ROLLBACK")), "SET search_path = a"),
                row("ROLLBACK TO undoes the savepoint's changes", List.of(inTx("BEGIN"), inTx("SET search_path = a"),
                        inTx("SAVEPOINT s"), inTx("SET search_path = b"), inTx("ROLLBACK TO s"), ok("COMMIT")),
                        "SET search_path = a"),
                row("RELEASE keeps them", List.of(inTx("BEGIN"), inTx("SAVEPOINT s"), inTx("SET search_path = b"),
                        inTx("RELEASE s"), ok("COMMIT")), "SET search_path = b"),
                row("a failed transaction's COMMIT rolls back", List.of(inTx("BEGIN"), inTx("SET search_path = b"),
                        failsAt("SELECT 1/0", 0, true), ok("COMMIT"))),
                row("ROLLBACK TO recovers a failed transaction", List.of(inTx("BEGIN"), inTx("SET work_mem = '2MB'"),
                        inTx("SAVEPOINT s"), inTx("SET search_path = b"), failsAt("SELECT 1/0", 0, true),
                        inTx("ROLLBACK TO s"), ok("COMMIT")), "SET work_mem = '2MB'"),
                row("a failing statement undoes its implicit block", List.of(
                        failsAt("SET search_path = a; SELECT 1/0", 1, false))),
                row("a COMMIT in the string ends the implicit block", List.of(
                        failsAt("SET search_path = a; COMMIT; SET work_mem = '1MB'; SELECT 1/0", 3, false)),
                        "SET search_path = a"),
                row("BEGIN turns the implicit block into an explicit one", List.of(
                        failsAt("SET search_path = a; BEGIN; SELECT 1/0", 2, true), ok("ROLLBACK"))),
                row("session characteristics are settings", List.of(
                        ok("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")),
                        "SET default_transaction_read_only = on"),
                row("set_config with literals is tracked", List.of(ok("SELECT set_config('app.user', '42', false)")),
                        "SELECT pg_catalog.set_config(E'app.user', E'42', false)"),
                row("set_config local is not", List.of(inTx("BEGIN"), inTx("SELECT set_config('app.user', '42', true)"),
                        ok("COMMIT"))),
                row("authorization before role", List.of(ok("SET SESSION AUTHORIZATION u8"), ok("SET ROLE u9")),
                        "SET SESSION AUTHORIZATION u8", "SET ROLE u9"),
                row("a new session authorization resets the role", List.of(ok("SET ROLE u9"),
                        ok("SET SESSION AUTHORIZATION u8")), "SET SESSION AUTHORIZATION u8"),
                row("RESET SESSION AUTHORIZATION resets the role too", List.of(ok("SET SESSION AUTHORIZATION u8"),
                        ok("SET ROLE u9"), inTx("BEGIN"), inTx("SET SESSION AUTHORIZATION u10"), ok("ROLLBACK"),
                        ok("RESET SESSION AUTHORIZATION"))),
                row("authorization rolled back with its transaction keeps the role", List.of(
                        ok("SET SESSION AUTHORIZATION u8"), ok("SET ROLE u9"), inTx("BEGIN"),
                        inTx("SET SESSION AUTHORIZATION u10"), ok("ROLLBACK")),
                        "SET SESSION AUTHORIZATION u8", "SET ROLE u9"),
                row("RESET ALL keeps role and authorization", List.of(ok("SET SESSION AUTHORIZATION u8"),
                        ok("SET ROLE u9"), ok("SET search_path = a"), ok("RESET ALL")),
                        "SET SESSION AUTHORIZATION u8", "SET ROLE u9"),
                row("DISCARD ALL forgets everything", List.of(ok("SET SESSION AUTHORIZATION u8"),
                        ok("SET search_path = a"), ok("DISCARD ALL"))),
                row("SET ROLE NONE", List.of(ok("SET ROLE u9"), ok("SET ROLE NONE"))),
                row("COMMIT AND CHAIN keeps the changes and opens a new block", List.of(inTx("BEGIN"),
                        inTx("SET search_path = a"), inTx("COMMIT AND CHAIN"), inTx("SET search_path = b"),
                        ok("ROLLBACK")), "SET search_path = a"),
                row("a reported setting replays the value the server reported (SET datestyle merges)", List.of(
                        reporting("SET datestyle TO iso", "DateStyle", "ISO, MDY"),
                        reporting("SET datestyle TO ymd", "DateStyle", "ISO, YMD")),
                        "SELECT pg_catalog.set_config(E'datestyle', E'ISO, YMD', false)"),
                row("a reported value of a setting the session does not change is not replayed", List.of(
                        reporting("SET search_path = a", "TimeZone", "UTC")), "SET search_path = a"),
                row("a rolled back SET of a reported setting replays what the server reports after it", List.of(
                        reporting("SET datestyle TO iso", "DateStyle", "ISO, MDY"), inTx("BEGIN"),
                        new Step("SET datestyle TO german", -1, true, Map.of("DateStyle", "German, DMY")),
                        reporting("ROLLBACK", "DateStyle", "ISO, MDY")),
                        "SELECT pg_catalog.set_config(E'datestyle', E'ISO, MDY', false)"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void replaysTheCommittedState(Row row) {
        SessionSettings settings = new SessionSettings(Map.of("application_name", "app"));
        for (Step step : row.steps()) {
            step.reported().forEach(settings::parameterReported);
            List<StatementFacts> statements = CLASSIFIER.classify(step.sql(), true).statements();
            int completed = step.completed() < 0 ? statements.size() : step.completed();
            for (int i = 0; i < completed; i++) {
                settings.statementCompleted(statements.get(i).effects());
            }
            boolean failed = step.completed() >= 0;
            if (failed) {
                settings.statementFailed();
            }
            settings.requestEnded(step.inTransaction(), failed);
        }
        StringBuilder expected = new StringBuilder(STARTUP);
        for (String statement : row.replayed()) {
            expected.append("; ").append(statement);
        }
        assertThat(settings.stateKey()).isEqualTo(expected.toString());
    }
}
