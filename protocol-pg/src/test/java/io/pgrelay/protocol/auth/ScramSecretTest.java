package io.pgrelay.protocol.auth;

import static io.pgrelay.protocol.auth.ScramTestSupport.RFC_ITERATIONS;
import static io.pgrelay.protocol.auth.ScramTestSupport.RFC_PASSWORD;
import static io.pgrelay.protocol.auth.ScramTestSupport.RFC_VERIFIER;
import static io.pgrelay.protocol.auth.ScramTestSupport.refHmac;
import static io.pgrelay.protocol.auth.ScramTestSupport.refSaltedPassword;
import static io.pgrelay.protocol.auth.ScramTestSupport.rfcSalt;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ScramSecretTest {

    @Test
    void derivesTheRfcVectorSecret() throws Exception {
        ScramSecret secret = ScramSecret.fromPassword(RFC_PASSWORD, rfcSalt(), RFC_ITERATIONS);

        // Independent derivation with the JDK's PBKDF2 and HMAC.
        byte[] salted = refSaltedPassword(RFC_PASSWORD, rfcSalt(), RFC_ITERATIONS);
        byte[] storedKey = MessageDigest.getInstance("SHA-256").digest(refHmac(salted, "Client Key"));
        byte[] serverKey = refHmac(salted, "Server Key");

        assertThat(secret.iterations()).isEqualTo(4096);
        assertThat(secret.salt()).isEqualTo(rfcSalt());
        assertThat(secret.storedKey()).isEqualTo(storedKey);
        assertThat(secret.serverKey()).isEqualTo(serverKey);
        // Stored form, fields as PostgreSQL writes them into pg_authid.rolpassword.
        assertThat(secret.toVerifier()).isEqualTo(RFC_VERIFIER);
        assertThat(secret.toVerifier()).isEqualTo("SCRAM-SHA-256$4096:" + ScramTestSupport.RFC_SALT_B64 + "$"
                + Base64.getEncoder().encodeToString(storedKey) + ":" + Base64.getEncoder().encodeToString(serverKey));
    }

    @Test
    void parsesAndFormatsRoundTrip() {
        ScramSecret parsed = ScramSecret.parse(RFC_VERIFIER);
        assertThat(parsed.iterations()).isEqualTo(4096);
        assertThat(parsed.salt()).isEqualTo(rfcSalt());
        assertThat(parsed.toVerifier()).isEqualTo(RFC_VERIFIER);
        assertThat(parsed).isEqualTo(ScramSecret.fromPassword(RFC_PASSWORD, rfcSalt(), RFC_ITERATIONS));
        assertThat(parsed.hashCode()).isEqualTo(ScramSecret.parse(RFC_VERIFIER).hashCode());
        assertThat(ScramSecret.isScramVerifier(RFC_VERIFIER)).isTrue();

        ScramSecret random = ScramSecret.fromPassword("secret", 10, new SecureRandom());
        assertThat(ScramSecret.parse(random.toVerifier())).isEqualTo(random);
    }

    @Test
    void randomSecretUsesDefaults() {
        SecureRandom random = new SecureRandom();
        ScramSecret a = ScramSecret.fromPassword("secret", random);
        ScramSecret b = ScramSecret.fromPassword("secret", random);
        assertThat(a.iterations()).isEqualTo(ScramSha256.DEFAULT_ITERATIONS);
        assertThat(a.salt()).hasSize(ScramSha256.DEFAULT_SALT_LENGTH);
        assertThat(a.salt()).isNotEqualTo(b.salt());
        assertThat(a).isNotEqualTo(b);
    }

    @Test
    void verifiesPlainPasswords() {
        ScramSecret secret = ScramSecret.parse(RFC_VERIFIER);
        assertThat(secret.verifyPassword(RFC_PASSWORD)).isTrue();
        assertThat(secret.verifyPassword("pencil2")).isFalse();
        ScramSecret prepped = ScramSecret.fromPassword("I\u00ADX", rfcSalt(), 8);
        assertThat(prepped.verifyPassword("IX")).isTrue();
    }

    @Test
    void isImmutable() {
        ScramSecret secret = ScramSecret.parse(RFC_VERIFIER);
        secret.salt()[0] ^= 1;
        secret.storedKey()[0] ^= 1;
        secret.serverKey()[0] ^= 1;
        assertThat(secret.toVerifier()).isEqualTo(RFC_VERIFIER);

        byte[] salt = rfcSalt();
        ScramSecret built = ScramSecret.of(4096, salt, secret.storedKey(), secret.serverKey());
        salt[0] ^= 1;
        assertThat(built).isEqualTo(secret);
    }

    @Test
    void toStringDoesNotRevealKeys() {
        ScramSecret secret = ScramSecret.parse(RFC_VERIFIER);
        assertThat(secret.toString())
                .contains("4096")
                .doesNotContain(Base64.getEncoder().encodeToString(secret.storedKey()))
                .doesNotContain(Base64.getEncoder().encodeToString(secret.serverKey()));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "",
        "md53175bce1d3201d16594cebf9d7eb3f9d",
        "pencil",
        "SCRAM-SHA-1$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
        "SCRAM-SHA-256$:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
        "SCRAM-SHA-256$0:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
        "SCRAM-SHA-256$-1:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
        "SCRAM-SHA-256$+4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
        "SCRAM-SHA-256$4x96:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
        "SCRAM-SHA-256$4096:$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
        "SCRAM-SHA-256$4096:not*base64$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
        "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=",
        "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcX:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
        "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qYAAAAAAAAAAAAAAAA=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
        "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=:extra",
    })
    void rejectsMalformedVerifiers(String verifier) {
        assertThatThrownBy(() -> ScramSecret.parse(verifier))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("invalid SCRAM-SHA-256 secret")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("wfPLwcE6"));
        assertThat(ScramSecret.isScramVerifier(verifier)).isFalse();
    }
}
