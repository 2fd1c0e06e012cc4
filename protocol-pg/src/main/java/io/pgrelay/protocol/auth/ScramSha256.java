package io.pgrelay.protocol.auth;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.text.Normalizer;
import java.util.Arrays;
import java.util.Objects;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * SCRAM-SHA-256 (RFC 5802, RFC 7677) constants and primitives shared by the server side
 * ({@link ScramServerSession}) and the client side ({@link ScramClientSession}), with the
 * PostgreSQL-specific password handling of {@code src/common/saslprep.c} and
 * {@code src/common/scram-common.c}.
 *
 * <p>Pure JDK; thread-safe (no shared mutable state).
 */
public final class ScramSha256 {
    /** SASL mechanism name. */
    public static final String MECHANISM = "SCRAM-SHA-256";
    /** Channel-binding variant; pgrelay does not offer it. */
    public static final String MECHANISM_PLUS = "SCRAM-SHA-256-PLUS";
    /** Length of SHA-256 digests and of every SCRAM key. */
    public static final int KEY_LENGTH = 32;
    /** PostgreSQL's {@code SCRAM_SHA_256_DEFAULT_ITERATIONS}. */
    public static final int DEFAULT_ITERATIONS = 4096;
    /** PostgreSQL's {@code SCRAM_DEFAULT_SALT_LEN}. */
    public static final int DEFAULT_SALT_LENGTH = 16;
    /** PostgreSQL's {@code SCRAM_RAW_NONCE_LEN}: random bytes in a nonce, before base64. */
    public static final int RAW_NONCE_LENGTH = 18;
    /** Scheme prefix of a stored secret in {@code pg_authid.rolpassword}. */
    public static final String VERIFIER_SCHEME = "SCRAM-SHA-256";

    /** gs2-header of a client that does not support channel binding. */
    public static final String GS2_HEADER_NO_CBIND = "n,,";
    /** gs2-header of a client that supports channel binding but thinks the server does not. */
    public static final String GS2_HEADER_CBIND_UNUSED = "y,,";
    /** {@code c=} value for {@link #GS2_HEADER_NO_CBIND}: base64 of "n,,". */
    public static final String CBIND_NO_CBIND = "biws";
    /** {@code c=} value for {@link #GS2_HEADER_CBIND_UNUSED}: base64 of "y,,". */
    public static final String CBIND_CBIND_UNUSED = "eSws";

    private static final byte[] CLIENT_KEY_NAME = "Client Key".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SERVER_KEY_NAME = "Server Key".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] INT_1 = {0, 0, 0, 1};
    /**
     * HMAC pads keys with zero bytes to the block size, so an empty key is equivalent to a single
     * zero byte; {@link SecretKeySpec} refuses empty keys.
     */
    private static final byte[] EMPTY_KEY_EQUIVALENT = {0};

    private ScramSha256() {
    }

    // ---------------------------------------------------------------- hash primitives

    /** {@code H(data)}: SHA-256. */
    public static byte[] h(byte[] data) {
        return sha256().digest(data);
    }

    /** {@code HMAC(key, part1 || part2 || ...)} with HMAC-SHA-256. An empty key is allowed. */
    public static byte[] hmac(byte[] key, byte[]... parts) {
        Mac mac = hmacSha256(key);
        for (byte[] part : parts) {
            mac.update(part);
        }
        return mac.doFinal();
    }

    /** Byte-wise XOR of two arrays of equal length. */
    public static byte[] xor(byte[] a, byte[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("xor of arrays of different length: " + a.length + " vs " + b.length);
        }
        byte[] out = new byte[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = (byte) (a[i] ^ b[i]);
        }
        return out;
    }

    /**
     * {@code Hi(password, salt, i)} of RFC 5802, i.e. PBKDF2-HMAC-SHA-256 with a 32-byte output.
     * Works on raw bytes (not {@code char[]} like {@code PBKDF2WithHmacSHA256}) because PostgreSQL
     * hashes the raw password bytes when SASLprep does not apply.
     */
    public static byte[] hi(byte[] password, byte[] salt, int iterations) {
        if (iterations < 1) {
            throw new IllegalArgumentException("iteration count must be positive: " + iterations);
        }
        Mac mac = hmacSha256(password);
        mac.update(salt);
        mac.update(INT_1);
        byte[] u = mac.doFinal();
        byte[] result = u.clone();
        for (int i = 1; i < iterations; i++) {
            u = mac.doFinal(u);
            for (int j = 0; j < result.length; j++) {
                result[j] ^= u[j];
            }
        }
        return result;
    }

    /** {@code SaltedPassword := Hi(SASLprep(password), salt, i)}, with PostgreSQL's fallback. */
    public static byte[] saltedPassword(String password, byte[] salt, int iterations) {
        return hi(saslPrep(password), salt, iterations);
    }

    /** {@code ClientKey := HMAC(SaltedPassword, "Client Key")}. */
    public static byte[] clientKey(byte[] saltedPassword) {
        return hmac(saltedPassword, CLIENT_KEY_NAME);
    }

    /** {@code ServerKey := HMAC(SaltedPassword, "Server Key")}. */
    public static byte[] serverKey(byte[] saltedPassword) {
        return hmac(saltedPassword, SERVER_KEY_NAME);
    }

    /** {@code StoredKey := H(ClientKey)}. */
    public static byte[] storedKey(byte[] clientKey) {
        return h(clientKey);
    }

    // ---------------------------------------------------------------- SASLprep

    /**
     * The bytes PostgreSQL feeds to {@code Hi()} for this password: the UTF-8 encoding of
     * {@code SASLprep(password)} if SASLprep succeeds, else the password's raw UTF-8 bytes.
     * See {@link #saslPrep(byte[])}.
     */
    public static byte[] saslPrep(String password) {
        Objects.requireNonNull(password, "password");
        return saslPrep(password.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * The bytes PostgreSQL feeds to {@code Hi()} for this raw password: SASLprep (RFC 4013)
     * applied the way {@code pg_saslprep()} does it, or, as PostgreSQL does, the unchanged input
     * when the input is not valid UTF-8 or SASLprep rejects it. Never returns {@code null}; the
     * result may be the input array itself.
     */
    public static byte[] saslPrep(byte[] password) {
        Objects.requireNonNull(password, "password");
        byte[] prepared = saslPrepOrNull(password);
        return prepared != null ? prepared : password;
    }

    /**
     * Strict SASLprep as implemented by PostgreSQL's {@code pg_saslprep()}: returns the UTF-8
     * encoded, prepared string, or {@code null} if the input is not valid UTF-8 or contains
     * characters SASLprep prohibits (including a string that maps to nothing).
     *
     * <p>Mirrors PostgreSQL, which deviates from RFC 4013 in two small ways: pure-ASCII input is
     * returned unchanged without any checks (so ASCII control characters pass), and the
     * prohibited/unassigned/bidi checks are applied to the mapped string before NFKC
     * normalization rather than after.
     */
    public static byte[] saslPrepOrNull(byte[] password) {
        Objects.requireNonNull(password, "password");
        if (isAscii(password)) {
            return password.clone();
        }
        String decoded = decodeStrictUtf8(password);
        if (decoded == null) {
            return null;
        }

        // 1) Map: non-ASCII spaces to U+0020, "commonly mapped to nothing" removed.
        int[] mapped = new int[decoded.length()];
        int count = 0;
        for (int i = 0; i < decoded.length(); ) {
            int cp = decoded.codePointAt(i);
            i += Character.charCount(cp);
            if (StringPrepTables.contains(StringPrepTables.NON_ASCII_SPACE, cp)) {
                mapped[count++] = 0x20;
            } else if (!StringPrepTables.contains(StringPrepTables.MAPPED_TO_NOTHING, cp)) {
                mapped[count++] = cp;
            }
        }
        if (count == 0) {
            return null; // PostgreSQL does not allow an empty password here
        }

        // 3) Prohibit, including unassigned code points (PostgreSQL checks the mapped input).
        boolean containsRandAl = false;
        for (int i = 0; i < count; i++) {
            int cp = mapped[i];
            if (StringPrepTables.contains(StringPrepTables.PROHIBITED, cp)
                    || StringPrepTables.contains(StringPrepTables.UNASSIGNED, cp)) {
                return null;
            }
            containsRandAl |= StringPrepTables.contains(StringPrepTables.RANDALCAT, cp);
        }

        // 4) Bidi: with any RandALCat character, no LCat character, and RandALCat first and last.
        if (containsRandAl) {
            for (int i = 0; i < count; i++) {
                if (StringPrepTables.contains(StringPrepTables.LCAT, mapped[i])) {
                    return null;
                }
            }
            if (!StringPrepTables.contains(StringPrepTables.RANDALCAT, mapped[0])
                    || !StringPrepTables.contains(StringPrepTables.RANDALCAT, mapped[count - 1])) {
                return null;
            }
        }

        // 2) Normalize with NFKC.
        String normalized = Normalizer.normalize(new String(mapped, 0, count), Normalizer.Form.NFKC);
        return normalized.getBytes(StandardCharsets.UTF_8);
    }

    // ---------------------------------------------------------------- message helpers

    /**
     * Whether every character is "printable" in the sense of RFC 5802 ({@code %x21-2B / %x2D-7E}:
     * printable ASCII except comma), as required of nonces.
     */
    public static boolean isPrintable(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x21 || c > 0x7E || c == ',') {
                return false;
            }
        }
        return true;
    }

    /** Constant-time comparison of two byte arrays. */
    static boolean constantTimeEquals(byte[] a, byte[] b) {
        return MessageDigest.isEqual(a, b);
    }

    static Mac hmacSha256(byte[] key) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key.length == 0 ? EMPTY_KEY_EQUIVALENT : key, "HmacSHA256"));
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }

    private static boolean isAscii(byte[] bytes) {
        for (byte b : bytes) {
            if (b < 0) {
                return false;
            }
        }
        return true;
    }

    private static String decodeStrictUtf8(byte[] bytes) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        try {
            CharBuffer chars = decoder.decode(ByteBuffer.wrap(bytes));
            return chars.toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /** Zeroes a sensitive array; tolerates {@code null}. */
    static void wipe(byte[] secret) {
        if (secret != null) {
            Arrays.fill(secret, (byte) 0);
        }
    }
}
