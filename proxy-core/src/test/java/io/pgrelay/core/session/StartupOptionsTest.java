package io.pgrelay.core.session;

import io.pgrelay.protocol.PgProtocolException;
import io.pgrelay.protocol.SqlState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

class StartupOptionsTest {
    private static Map<String, String> parameters(String... nameValues) {
        Map<String, String> parameters = new LinkedHashMap<>();
        parameters.put("user", "alice");
        parameters.put("database", "shop");
        for (int i = 0; i < nameValues.length; i += 2) {
            parameters.put(nameValues[i], nameValues[i + 1]);
        }
        return parameters;
    }

    private static StartupOptions options(String options) {
        return StartupOptions.parse(parameters("options", options));
    }

    @Test
    void plainParametersAreSettingsExceptTheConnectionOnes() {
        StartupOptions options = StartupOptions.parse(parameters("application_name", "psql", "DateStyle", "ISO, MDY",
                "replication", "false", "_pq_.x", "1", "options", ""));

        assertThat(options.settings()).containsExactly(entry("application_name", "psql"), entry("DateStyle", "ISO, MDY"));
        assertThat(options.proxySettings()).isEmpty();
    }

    @Test
    void noOptionsNoSettings() {
        StartupOptions options = StartupOptions.parse(parameters());

        assertThat(options.settings()).isEmpty();
        assertThat(options.proxySettings()).isEmpty();
    }

    @Test
    void switchesInTheirThreeForms() {
        StartupOptions options = options("-c search_path=app -cstatement_timeout=5s --work-mem=64MB");

        assertThat(options.settings()).containsExactly(entry("search_path", "app"), entry("statement_timeout", "5s"),
                entry("work_mem", "64MB"));
    }

    @Test
    void dashesInNamesBecomeUnderscoresButNotInValues() {
        assertThat(options("--x-y=z").settings()).containsExactly(entry("x_y", "z"));
        assertThat(options("-c lock-timeout=a-b").settings()).containsExactly(entry("lock_timeout", "a-b"));
    }

    @Test
    void valueKeepsEverythingAfterTheFirstEqualsSign() {
        assertThat(options("-c x.y=a=b").settings()).containsExactly(entry("x.y", "a=b"));
        assertThat(options("-c x=").settings()).containsExactly(entry("x", ""));
    }

    @Test
    void backslashEscapesTheNextCharacter() {
        StartupOptions options = options("-c application_name=my\\ app -c x=a\\\\b");

        assertThat(options.settings()).containsExactly(entry("application_name", "my app"), entry("x", "a\\b"));
        // An escaped space joins the switch and its argument into one word, as for the server's getopt.
        assertThat(options("-c\\ y=1").settings()).containsExactly(entry(" y", "1"));
    }

    @Test
    void splitLikeTheServer() {
        assertThat(StartupOptions.split("")).isEmpty();
        assertThat(StartupOptions.split("  \t ")).isEmpty();
        assertThat(StartupOptions.split("  a\tb\n  c ")).containsExactly("a", "b", "c");
        assertThat(StartupOptions.split("a\\ b c")).containsExactly("a b", "c");
        assertThat(StartupOptions.split("a\\\\ b")).containsExactly("a\\", "b");
        assertThat(StartupOptions.split("\\ ")).containsExactly(" ");
        // A trailing backslash escapes nothing and stays.
        assertThat(StartupOptions.split("a\\")).containsExactly("a\\");
    }

    @Test
    void pgrelaySettingsAreKeptApartWithLowerCaseNames() {
        StartupOptions options = StartupOptions.parse(parameters("PGRELAY.Consistency", "Causal",
                "application_name", "psql", "options", "-c pgrelay.route=primary --pgrelay.max-lag=1s"));

        assertThat(options.settings()).containsExactly(entry("application_name", "psql"));
        assertThat(options.proxySettings()).containsOnly(entry("pgrelay.consistency", "Causal"),
                entry("pgrelay.route", "primary"), entry("pgrelay.max_lag", "1s"));
    }

    @Test
    void aParameterOverridesTheSameSettingInOptionsAsOnTheServer() {
        // The server applies the options switches first, then the other startup parameters.
        StartupOptions options = StartupOptions.parse(parameters("options", "-c application_name=from_options",
                "application_name", "psql"));

        assertThat(options.settings()).containsExactly(entry("application_name", "psql"));
    }

    @Test
    void optionsComeBeforeTheOtherParameters() {
        StartupOptions options = StartupOptions.parse(parameters("DateStyle", "ISO", "options", "-c search_path=app"));

        assertThat(options.settings()).containsExactly(entry("search_path", "app"), entry("DateStyle", "ISO"));
    }

    @Test
    void laterSwitchesOverrideEarlierOnes() {
        assertThat(options("-c x=1 -c x=2").settings()).containsExactly(entry("x", "2"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"-c", "positional", "-x", "--novalue", "-c =1", "--=1", "-c search_path"})
    void invalidArgumentsAre22023(String invalid) {
        assertThatThrownBy(() -> options("-c ok=1 " + invalid))
                .isInstanceOfSatisfying(PgProtocolException.class,
                        e -> assertThat(e.sqlState()).isEqualTo(SqlState.INVALID_PARAMETER_VALUE))
                .hasMessageStartingWith("invalid command-line argument for server process: ");
    }

    @Test
    void invalidArgumentIsNamed() {
        assertThatThrownBy(() -> options("-B 100"))
                .hasMessage("invalid command-line argument for server process: -B");
    }
}
