package io.pgrelay.core.cluster;

/**
 * A WAL position ({@code pg_lsn}), as an unsigned 64-bit value. Text form {@code XXXXXXXX/XXXXXXXX}.
 */
public final class Lsn {
    public static final long INVALID = 0L;

    private Lsn() {
    }

    public static long parse(String text) {
        if (text == null || text.isEmpty()) {
            return INVALID;
        }
        int slash = text.indexOf('/');
        if (slash <= 0 || slash == text.length() - 1) {
            throw new IllegalArgumentException("invalid LSN: " + text);
        }
        long high = Long.parseLong(text.substring(0, slash), 16);
        long low = Long.parseLong(text.substring(slash + 1), 16);
        if (high > 0xffffffffL || low > 0xffffffffL) {
            throw new IllegalArgumentException("invalid LSN: " + text);
        }
        return (high << 32) | low;
    }

    public static String format(long lsn) {
        return Long.toHexString(lsn >>> 32).toUpperCase(java.util.Locale.ROOT) + "/"
                + Long.toHexString(lsn & 0xffffffffL).toUpperCase(java.util.Locale.ROOT);
    }

    public static int compare(long a, long b) {
        return Long.compareUnsigned(a, b);
    }
}
