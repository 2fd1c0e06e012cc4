package io.pgrelay.protocol.auth;

import static io.pgrelay.protocol.auth.ScramTestSupport.rfcSalt;
import static io.pgrelay.protocol.auth.ScramTestSupport.refSaltedPassword;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ScramSha256Test {

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    // ------------------------------------------------------------ primitives

    @Test
    void hiMatchesJdkPbkdf2() throws Exception {
        byte[] salt = rfcSalt();
        assertThat(ScramSha256.hi(utf8("pencil"), salt, 4096)).isEqualTo(refSaltedPassword("pencil", salt, 4096));
        assertThat(ScramSha256.hi(utf8("x"), salt, 1)).isEqualTo(refSaltedPassword("x", salt, 1));
        assertThat(ScramSha256.hi(utf8("pencil"), salt, 4096)).hasSize(ScramSha256.KEY_LENGTH);
    }

    @Test
    void hiRejectsNonPositiveIterations() {
        assertThatThrownBy(() -> ScramSha256.hi(utf8("x"), rfcSalt(), 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void hmacWithEmptyKeyFollowsRfc2104() throws Exception {
        // RFC 2104: the key is zero-padded to the 64-byte block, so K = "" gives K0 = 64 zero bytes.
        byte[] data = utf8("message");
        byte[] ipad = new byte[64];
        byte[] opad = new byte[64];
        Arrays.fill(ipad, (byte) 0x36);
        Arrays.fill(opad, (byte) 0x5c);
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        sha.update(ipad);
        byte[] inner = sha.digest(data);
        sha.update(opad);
        byte[] expected = sha.digest(inner);
        assertThat(ScramSha256.hmac(new byte[0], data)).isEqualTo(expected);
        assertThat(ScramSha256.hi(new byte[0], rfcSalt(), 2)).hasSize(32);
    }

    @Test
    void hmacConcatenatesParts() {
        byte[] key = utf8("k");
        assertThat(ScramSha256.hmac(key, utf8("ab"), utf8("cd"))).isEqualTo(ScramSha256.hmac(key, utf8("abcd")));
    }

    @Test
    void xorAndH() throws Exception {
        assertThat(ScramSha256.xor(new byte[] {0x0f, (byte) 0xf0}, new byte[] {(byte) 0xff, (byte) 0xff}))
                .containsExactly(0xf0, 0x0f);
        assertThatThrownBy(() -> ScramSha256.xor(new byte[1], new byte[2])).isInstanceOf(IllegalArgumentException.class);
        assertThat(ScramSha256.h(utf8("abc")))
                .isEqualTo(MessageDigest.getInstance("SHA-256").digest(utf8("abc")));
    }

    @Test
    void printable() {
        assertThat(ScramSha256.isPrintable(ScramTestSupport.RFC_SERVER_NONCE)).isTrue();
        assertThat(ScramSha256.isPrintable("a,b")).isFalse();
        assertThat(ScramSha256.isPrintable("a b")).isFalse();
        assertThat(ScramSha256.isPrintable("\u00e9")).isFalse();
    }

    // ------------------------------------------------------------ SASLprep

    @Test
    void asciiIsUnchanged() {
        assertThat(ScramSha256.saslPrep("pencil")).isEqualTo(utf8("pencil"));
        assertThat(ScramSha256.saslPrepOrNull(utf8("Tr0ub4dor&3 ~"))).isEqualTo(utf8("Tr0ub4dor&3 ~"));
        // PostgreSQL returns pure ASCII unchanged without checks, even control characters.
        assertThat(ScramSha256.saslPrepOrNull(utf8("bell\u0007"))).isEqualTo(utf8("bell\u0007"));
        assertThat(ScramSha256.saslPrepOrNull(new byte[0])).isEmpty();
    }

    @ParameterizedTest(name = "{2}")
    @CsvSource(delimiter = '|', value = {
        "a\u00A0b          | a b | U+00A0 no-break space maps to space",
        "a\u3000b          | a b | U+3000 ideographic space maps to space",
        "I\u00ADX          | IX  | U+00AD soft hyphen is removed (RFC 4013 example)",
        "a\u200Bb          | a b | U+200B is in C.1.2, which PostgreSQL checks before B.1",
        "a\uFEFFb          | ab  | U+FEFF zero-width no-break space is removed",
        "\u00AA            | a   | U+00AA NFKC-normalizes to a (RFC 4013 example)",
        "\u2168            | IX  | U+2168 NFKC-normalizes to IX (RFC 4013 example)",
        "\u00E9t\u00E9     | \u00E9t\u00E9 | precomposed stays precomposed",
        "e\u0301t\u0065\u0301 | \u00E9t\u00E9 | decomposed is composed by NFKC",
        "\u0627\u0031\u0628 | \u0627\u0031\u0628 | RandALCat first and last, no LCat: accepted",
    })
    void mapsAndNormalizes(String input, String expected, String description) {
        assertThat(ScramSha256.saslPrepOrNull(utf8(input))).as(description).isEqualTo(utf8(expected));
        assertThat(ScramSha256.saslPrep(input)).as(description).isEqualTo(utf8(expected));
    }

    @ParameterizedTest(name = "{1}")
    @CsvSource(delimiter = '|', value = {
        "pass\u2028word | U+2028 line separator is prohibited (C.2.2)",
        "\uE000x        | U+E000 private use is prohibited (C.3)",
        "x\u0085        | U+0085 next line is prohibited (C.2.2)",
        "x\u00A0\uD83D\uDE00 | U+1F600 was unassigned in Unicode 3.2 (A.1); the NBSP is then not mapped either",
        "\u0627\u0031   | RandALCat string must end with RandALCat (RFC 4013 example)",
        "\u0627a\u0628  | RandALCat string must not contain LCat",
        "\u00AD         | maps to the empty string, which PostgreSQL rejects",
    })
    void fallsBackToRawBytesWhenProhibited(String input, String description) {
        assertThat(ScramSha256.saslPrepOrNull(utf8(input))).as(description).isNull();
        assertThat(ScramSha256.saslPrep(input)).as(description).isEqualTo(utf8(input));
    }

    @Test
    void fallsBackToRawBytesForInvalidUtf8() {
        byte[] latin1 = "pass\u00e9".getBytes(StandardCharsets.ISO_8859_1); // 0xE9 alone is not UTF-8
        byte[] overlong = {(byte) 0xC0, (byte) 0xAF};
        byte[] encodedSurrogate = {(byte) 0xED, (byte) 0xA0, (byte) 0x80};
        for (byte[] raw : new byte[][] {latin1, overlong, encodedSurrogate}) {
            assertThat(ScramSha256.saslPrepOrNull(raw)).isNull();
            assertThat(ScramSha256.saslPrep(raw)).isEqualTo(raw);
        }
    }

    @Test
    void saltedPasswordUsesPreparedOrRawBytes() {
        byte[] salt = rfcSalt();
        assertThat(ScramSha256.saltedPassword("I\u00ADX", salt, 16))
                .isEqualTo(ScramSha256.hi(utf8("IX"), salt, 16));
        assertThat(ScramSha256.saltedPassword("a\u00A0b", salt, 16))
                .isEqualTo(ScramSha256.hi(utf8("a b"), salt, 16));
        assertThat(ScramSha256.saltedPassword("a\u2028b", salt, 16))
                .isEqualTo(ScramSha256.hi(utf8("a\u2028b"), salt, 16));
    }
}
