package io.pgrelay.core.session;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ClientParametersTest {
    private static ClientParameters toldAtLogin(String timeZone) {
        ClientParameters parameters = new ClientParameters();
        parameters.put("server_version", "15.18");
        parameters.put("TimeZone", timeZone);
        parameters.share();
        return parameters;
    }

    @Test
    void namesAreCaseInsensitive() {
        ClientParameters parameters = toldAtLogin("UTC");
        assertThat(parameters.get("timezone")).isEqualTo("UTC");
        assertThat(parameters.get("TIMEZONE")).isEqualTo("UTC");
    }

    @Test
    void aSessionThatChangesAValueDoesNotChangeTheOthers() {
        ClientParameters first = toldAtLogin("UTC");
        ClientParameters second = toldAtLogin("UTC");
        first.put("TimeZone", "Europe/Paris");
        assertThat(first.get("timezone")).as("still case-insensitive after the copy").isEqualTo("Europe/Paris");
        assertThat(second.get("TimeZone")).isEqualTo("UTC");
        assertThat(toldAtLogin("UTC").get("timezone")).isEqualTo("UTC");
        second.put("application_name", "x");
        assertThat(second.get("application_name")).isEqualTo("x");
        assertThat(toldAtLogin("UTC").get("application_name")).isNull();
    }

    @Test
    void sessionsToldDifferentValuesKeepTheirOwn() {
        assertThat(toldAtLogin("UTC").get("TimeZone")).isEqualTo("UTC");
        assertThat(toldAtLogin("Asia/Tokyo").get("TimeZone")).isEqualTo("Asia/Tokyo");
    }

    @Test
    void theValuesEveryStatementConsultsFollowWhatTheClientWasTold() {
        ClientParameters parameters = toldAtLogin("UTC");
        assertThat(parameters.standardConformingStrings()).as("on unless told otherwise").isTrue();
        assertThat(parameters.defaultTransactionReadOnly()).isFalse();
        parameters.put("Standard_Conforming_Strings", "OFF");
        parameters.put("default_transaction_read_only", "on");
        assertThat(parameters.standardConformingStrings()).isFalse();
        assertThat(parameters.defaultTransactionReadOnly()).isTrue();
        parameters.put("standard_conforming_strings", "on");
        parameters.put("DEFAULT_TRANSACTION_READ_ONLY", "off");
        assertThat(parameters.standardConformingStrings()).isTrue();
        assertThat(parameters.defaultTransactionReadOnly()).isFalse();
    }
}
