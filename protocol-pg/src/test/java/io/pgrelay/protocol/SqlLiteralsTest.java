package io.pgrelay.protocol;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class SqlLiteralsTest {
    @Test
    void plainText() {
        assertThat(SqlLiterals.literal("app")).isEqualTo("E'app'");
        assertThat(SqlLiterals.literal("")).isEqualTo("E''");
        assertThat(SqlLiterals.literal("héllo, wörld")).isEqualTo("E'héllo, wörld'");
    }

    @Test
    void quotesAreDoubled() {
        assertThat(SqlLiterals.literal("it's")).isEqualTo("E'it''s'");
        assertThat(SqlLiterals.literal("'")).isEqualTo("E''''");
    }

    @Test
    void backslashesAreDoubled() {
        assertThat(SqlLiterals.literal("a\\b")).isEqualTo("E'a\\\\b'");
        // A trailing backslash must not escape the closing quote.
        assertThat(SqlLiterals.literal("x\\")).isEqualTo("E'x\\\\'");
        assertThat(SqlLiterals.literal("\\'")).isEqualTo("E'\\\\'''");
    }

    @Test
    void setConfigOfNothingIsNull() {
        assertThat(SqlLiterals.setConfig(List.of())).isNull();
    }

    @Test
    void setConfigOfOneSetting() {
        assertThat(SqlLiterals.setConfig(Map.of("search_path", "app").entrySet()))
                .isEqualTo("SELECT pg_catalog.set_config(E'search_path', E'app', false)");
    }

    @Test
    void setConfigIsOneSelectInTheGivenOrder() {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("application_name", "it's mine");
        settings.put("DateStyle", "ISO, DMY");
        settings.put("x.y", "C:\\temp");

        assertThat(SqlLiterals.setConfig(settings.entrySet())).isEqualTo("SELECT "
                + "pg_catalog.set_config(E'application_name', E'it''s mine', false), "
                + "pg_catalog.set_config(E'DateStyle', E'ISO, DMY', false), "
                + "pg_catalog.set_config(E'x.y', E'C:\\\\temp', false)");
    }
}
