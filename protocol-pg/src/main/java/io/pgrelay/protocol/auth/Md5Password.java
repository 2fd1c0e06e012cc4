package io.pgrelay.protocol.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Objects;

/**
 * PostgreSQL's legacy MD5 password authentication ({@code AuthenticationMD5Password}).
 *
 * <ul>
 *   <li>stored form: {@code "md5" + hex(md5(password + user))}, as in {@code pg_authid};</li>
 *   <li>client response to a 4-byte salt: {@code "md5" + hex(md5(hex(md5(password + user)) + salt))}.</li>
 * </ul>
 *
 * <p>Strings are hashed as UTF-8. The stored form is enough to compute and check responses,
 * so it is as sensitive as the password itself for this method.
 */
public final class Md5Password {
    /** Length of the salt in AuthenticationMD5Password. */
    public static final int SALT_LENGTH = 4;
    /** Length of a stored form or a response: "md5" and 32 hex digits. */
    public static final int ENCODED_LENGTH = 35;

    private static final String PREFIX = "md5";
    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    private Md5Password() {
    }

    /** The stored form {@code "md5" + hex(md5(password + user))}. */
    public static String encode(String user, String password) {
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(password, "password");
        MessageDigest md5 = md5();
        md5.update(password.getBytes(StandardCharsets.UTF_8));
        md5.update(user.getBytes(StandardCharsets.UTF_8));
        return PREFIX + new String(hex(md5.digest()), StandardCharsets.US_ASCII);
    }

    /** Whether {@code s} looks like a stored MD5 password ("md5" and 32 lowercase hex digits). */
    public static boolean isEncoded(String s) {
        if (s == null || s.length() != ENCODED_LENGTH || !s.startsWith(PREFIX)) {
            return false;
        }
        for (int i = PREFIX.length(); i < ENCODED_LENGTH; i++) {
            char c = s.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                return false;
            }
        }
        return true;
    }

    /**
     * The client's response to AuthenticationMD5Password, without the trailing NUL:
     * {@code "md5" + hex(md5(hex(md5(password + user)) + salt))}.
     */
    public static byte[] response(String user, String password, byte[] salt) {
        return responseFromEncoded(encode(user, password), salt);
    }

    /**
     * The client's response computed from the stored form {@link #encode(String, String)}
     * returns (for when only the hash is configured), without the trailing NUL.
     */
    public static byte[] responseFromEncoded(String encoded, byte[] salt) {
        if (!isEncoded(encoded)) {
            throw new IllegalArgumentException("not an MD5-encoded password");
        }
        checkSalt(salt);
        MessageDigest md5 = md5();
        md5.update(encoded.substring(PREFIX.length()).getBytes(StandardCharsets.US_ASCII));
        md5.update(salt);
        byte[] hex = hex(md5.digest());
        byte[] out = new byte[ENCODED_LENGTH];
        out[0] = 'm';
        out[1] = 'd';
        out[2] = '5';
        System.arraycopy(hex, 0, out, PREFIX.length(), hex.length);
        return out;
    }

    /** Whether {@code clientResponse} is the right response for this password; constant-time. */
    public static boolean verify(String user, String password, byte[] salt, String clientResponse) {
        return verifyEncoded(encode(user, password), salt, clientResponse);
    }

    /** Whether {@code clientResponse} matches the stored form {@code encoded}; constant-time. */
    public static boolean verifyEncoded(String encoded, byte[] salt, String clientResponse) {
        byte[] expected = responseFromEncoded(encoded, salt);
        if (clientResponse == null) {
            return false;
        }
        return MessageDigest.isEqual(expected, clientResponse.getBytes(StandardCharsets.UTF_8));
    }

    private static void checkSalt(byte[] salt) {
        Objects.requireNonNull(salt, "salt");
        if (salt.length != SALT_LENGTH) {
            throw new IllegalArgumentException("MD5 salt must be " + SALT_LENGTH + " bytes, got " + salt.length);
        }
    }

    private static byte[] hex(byte[] bytes) {
        byte[] out = new byte[bytes.length * 2];
        for (int i = 0; i < bytes.length; i++) {
            out[2 * i] = HEX[(bytes[i] >> 4) & 0xF];
            out[2 * i + 1] = HEX[bytes[i] & 0xF];
        }
        return out;
    }

    private static MessageDigest md5() {
        try {
            return MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("MD5 is not available", e);
        }
    }
}
