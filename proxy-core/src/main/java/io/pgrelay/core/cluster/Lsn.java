package io.pgrelay.core.cluster;

/**
 * A WAL position ({@code pg_lsn}), as an unsigned 64-bit value. Text form {@code XXXXXXXX/XXXXXXXX}.
 */
public final class Lsn {
    public static final long INVALID = 0L;

    private Lsn() {
    }

    /** Parses the text form as the server's {@code pg_lsn} input does: 1 to 8 hex digits, '/', 1 to 8 hex digits. */
    public static long parse(String text) {
        if (text == null || text.isEmpty()) {
            return INVALID;
        }
        int slash = text.indexOf('/');
        if (!isComponent(text, 0, slash) || !isComponent(text, slash + 1, text.length())) {
            throw new IllegalArgumentException("invalid LSN: " + text);
        }
        long high = Long.parseLong(text.substring(0, slash), 16);
        long low = Long.parseLong(text.substring(slash + 1), 16);
        return (high << 32) | low;
    }

    /** Whether {@code text[from, to)} is 1 to 8 ASCII hex digits (Long.parseLong alone would also take a sign). */
    private static boolean isComponent(String text, int from, int to) {
        if (from < 0 || to - from < 1 || to - from > 8) {
            return false;
        }
        for (int i = from; i < to; i++) {
            char c = text.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F')) {
                return false;
            }
        }
        return true;
    }

    public static String format(long lsn) {
        return Long.toHexString(lsn >>> 32).toUpperCase(java.util.Locale.ROOT) + "/"
                + Long.toHexString(lsn & 0xffffffffL).toUpperCase(java.util.Locale.ROOT);
    }

    public static int compare(long a, long b) {
        return Long.compareUnsigned(a, b);
    }
}
