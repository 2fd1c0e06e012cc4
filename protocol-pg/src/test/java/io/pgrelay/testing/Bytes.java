package io.pgrelay.testing;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Builds expected wire bytes by hand: {@code Bytes.of('Q', i32(13), "SELECT 1", 0)}.
 * A {@code Character} or {@code Integer} part is one byte, a {@code String} its UTF-8 bytes
 * (no terminator: write the {@code 0} explicitly), a {@code byte[]} itself.
 */
public final class Bytes {
    private Bytes() {
    }

    public static byte[] of(Object... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Object part : parts) {
            if (part instanceof Character c) {
                out.write(c);
            } else if (part instanceof Integer i) {
                if (i < -128 || i > 255) {
                    throw new IllegalArgumentException("not a byte: " + i + " (use i16/i32)");
                }
                out.write(i);
            } else if (part instanceof String s) {
                out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
            } else if (part instanceof byte[] b) {
                out.writeBytes(b);
            } else {
                throw new IllegalArgumentException("unsupported part " + part);
            }
        }
        return out.toByteArray();
    }

    public static byte[] i32(int value) {
        return new byte[] {(byte) (value >>> 24), (byte) (value >>> 16), (byte) (value >>> 8), (byte) value};
    }

    public static byte[] i16(int value) {
        return new byte[] {(byte) (value >>> 8), (byte) value};
    }

    /** The first {@code length} bytes. */
    public static byte[] prefix(byte[] bytes, int length) {
        return java.util.Arrays.copyOf(bytes, length);
    }

    /** The bytes from {@code from} on. */
    public static byte[] from(byte[] bytes, int from) {
        return java.util.Arrays.copyOfRange(bytes, from, bytes.length);
    }
}
