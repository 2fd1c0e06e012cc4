package io.pgrelay.protocol.message.frontend;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static io.pgrelay.protocol.message.MessageAssertions.*;
import static io.pgrelay.testing.Bytes.i32;
import static io.pgrelay.testing.Bytes.of;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class StartupMessageTest {
    private static final String LAYOUT = "invalid startup packet layout: expected terminator as last byte";

    private static StartupMessage message(String... pairs) {
        Map<String, String> parameters = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            parameters.put(pairs[i], pairs[i + 1]);
        }
        return new StartupMessage(StartupMessage.PROTOCOL_3_0, parameters);
    }

    @Test
    void roundTrip() {
        StartupMessage decoded = assertRoundTrip(message("user", "bob", "database", "shop"),
                of(i32(32), i32(196608), "user", 0, "bob", 0, "database", 0, "shop", 0, 0),
                UNTYPED_HEADER, StartupMessage::decode);
        assertThat(decoded.protocolVersion()).isEqualTo(StartupMessage.PROTOCOL_3_0);
        assertThat(decoded.majorVersion()).isEqualTo(3);
        assertThat(decoded.minorVersion()).isZero();
        assertThat(decoded.user()).isEqualTo("bob");
        assertThat(decoded.database()).isEqualTo("shop");
    }

    @Test
    void noParameters() {
        StartupMessage decoded = assertRoundTrip(message(), of(i32(9), i32(196608), 0), UNTYPED_HEADER,
                StartupMessage::decode);
        assertThat(decoded.user()).isNull();
        assertThat(decoded.database()).isNull();
    }

    @Test
    void keepsParameterOrderAndIsUnmodifiable() {
        StartupMessage decoded = decode(StartupMessage::decode,
                of(i32(196608), "user", 0, "bob", 0, "application_name", 0, "psql", 0, "options", 0, "-c x=1", 0, 0));
        assertThat(decoded.parameters()).containsExactly(Map.entry("user", "bob"),
                Map.entry("application_name", "psql"), Map.entry("options", "-c x=1"));
        assertThatThrownBy(() -> decoded.parameters().put("user", "eve"))
                .isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void isNotChangedByTheCallersMap() {
        Map<String, String> parameters = new LinkedHashMap<>(Map.of("user", "bob"));
        StartupMessage message = new StartupMessage(StartupMessage.PROTOCOL_3_0, parameters);
        parameters.put("user", "eve");
        assertThat(message.user()).isEqualTo("bob");
    }

    @Test
    void databaseDefaultsToUser() {
        assertThat(message("user", "bob").database()).isEqualTo("bob");
        assertThat(message("user", "bob", "database", "").database()).isEqualTo("bob");
    }

    @Test
    void minorVersion() {
        StartupMessage decoded = decode(StartupMessage::decode, of(i32(0x0003_0002), "user", 0, "bob", 0, 0));
        assertThat(decoded.majorVersion()).isEqualTo(3);
        assertThat(decoded.minorVersion()).isEqualTo(2);
    }

    @Test
    void emptyValueIsAllowed() {
        assertThat(decode(StartupMessage::decode, of(i32(196608), "user", 0, "bob", 0, "options", 0, 0, 0))
                .parameters()).containsEntry("options", "");
    }

    @Test
    void nameWithoutValue() {
        assertViolation(StartupMessage::decode, of(i32(196608), "user", 0, "bob", 0, "database", 0)).hasMessage(LAYOUT);
        assertViolation(StartupMessage::decode, of(i32(196608), "user", 0, 0)).hasMessage(LAYOUT);
    }

    @Test
    void missingTerminator() {
        assertViolation(StartupMessage::decode, of(i32(196608), "user", 0, "bob", 0)).hasMessage(LAYOUT);
        assertViolation(StartupMessage::decode, of(i32(196608), "user", 0, "bob")).hasMessage(LAYOUT);
        assertViolation(StartupMessage::decode, of(i32(196608))).hasMessage(LAYOUT);
    }

    @Test
    void bytesAfterTerminator() {
        assertViolation(StartupMessage::decode, of(i32(196608), "user", 0, "bob", 0, 0, 'x')).hasMessage(LAYOUT);
    }

    @Test
    void truncated() {
        assertTruncationsFail(StartupMessage::decode, of(i32(196608), "user", 0, "bob", 0, 0));
    }
}
