package io.pgrelay.protocol.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class Md5PasswordTest {
    private static final byte[] SALT = {(byte) 0x93, 0x01, (byte) 0xfe, 0x7a};

    /** Independent computation of the client response with MessageDigest and HexFormat. */
    private static String expectedResponse(String user, String password, byte[] salt) throws Exception {
        MessageDigest md5 = MessageDigest.getInstance("MD5");
        String inner = HexFormat.of().formatHex(md5.digest((password + user).getBytes(StandardCharsets.UTF_8)));
        md5.update(inner.getBytes(StandardCharsets.US_ASCII));
        md5.update(salt);
        return "md5" + HexFormat.of().formatHex(md5.digest());
    }

    @Test
    void encodesKnownValue() {
        assertThat(Md5Password.encode("postgres", "postgres")).isEqualTo("md53175bce1d3201d16594cebf9d7eb3f9d");
        assertThat(Md5Password.isEncoded("md53175bce1d3201d16594cebf9d7eb3f9d")).isTrue();
        assertThat(Md5Password.isEncoded("md53175BCE1d3201d16594cebf9d7eb3f9d")).isFalse();
        assertThat(Md5Password.isEncoded("postgres")).isFalse();
        assertThat(Md5Password.isEncoded(null)).isFalse();
    }

    @Test
    void computesClientResponse() throws Exception {
        String expected = expectedResponse("postgres", "postgres", SALT);
        assertThat(new String(Md5Password.response("postgres", "postgres", SALT), StandardCharsets.US_ASCII))
                .isEqualTo(expected)
                .hasSize(Md5Password.ENCODED_LENGTH);
        assertThat(Md5Password.responseFromEncoded("md53175bce1d3201d16594cebf9d7eb3f9d", SALT))
                .isEqualTo(Md5Password.response("postgres", "postgres", SALT));

        String nonAscii = expectedResponse("j\u00fcrgen", "gr\u00fc\u00dfe", SALT);
        assertThat(new String(Md5Password.response("j\u00fcrgen", "gr\u00fc\u00dfe", SALT), StandardCharsets.US_ASCII))
                .isEqualTo(nonAscii);
    }

    @Test
    void verifiesResponses() throws Exception {
        String good = expectedResponse("alice", "secret", SALT);
        assertThat(Md5Password.verify("alice", "secret", SALT, good)).isTrue();
        assertThat(Md5Password.verifyEncoded(Md5Password.encode("alice", "secret"), SALT, good)).isTrue();
        assertThat(Md5Password.verify("alice", "Secret", SALT, good)).isFalse();
        assertThat(Md5Password.verify("bob", "secret", SALT, good)).isFalse();
        assertThat(Md5Password.verify("alice", "secret", new byte[] {1, 2, 3, 4}, good)).isFalse();
        assertThat(Md5Password.verify("alice", "secret", SALT, good.toUpperCase())).isFalse();
        assertThat(Md5Password.verify("alice", "secret", SALT, good + "\0")).isFalse();
        assertThat(Md5Password.verify("alice", "secret", SALT, "")).isFalse();
        assertThat(Md5Password.verify("alice", "secret", SALT, null)).isFalse();
    }

    @Test
    void rejectsBadArguments() {
        assertThatThrownBy(() -> Md5Password.response("u", "p", new byte[3])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Md5Password.responseFromEncoded("plaintext", SALT))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Md5Password.encode(null, "p")).isInstanceOf(NullPointerException.class);
    }
}
