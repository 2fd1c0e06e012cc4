package io.pgrelay.core.classify;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * A 128-bit fingerprint (two independent 64-bit hashes) of a normalized token stream, the key of the
 * classification cache. Like pg_stat_statements' normalization, every literal (string of any kind,
 * number) and every parameter becomes one placeholder; whitespace and comments are ignored;
 * unquoted identifiers and keywords are lower-cased, quoted identifiers kept verbatim. Additionally
 * hashed: a {@code pgrelay:primary} hint comment, the {@code standard_conforming_strings} mode,
 * and — the one exception to literal stripping — the string bodies of a {@code DO} statement, which
 * are code, not values. {@code TRUE}, {@code FALSE} and {@code NULL} are keywords here, not
 * literals. Computing it allocates nothing ({@link #compute(TokenBuffer, long[])}).
 *
 * @param high first 64-bit hash
 * @param low  second, independent 64-bit hash
 */
public record Fingerprint(long high, long low) {
    static final long SEED1 = 0x9E3779B97F4A7C15L;
    static final long SEED2 = 0xC2B2AE3D27D4EB4FL;
    static final long PLACEHOLDER = 100;
    private static final int DO_BODY = 101;

    /** Lower-case hex, 32 digits. */
    public String hex() {
        return String.format("%016x%016x", high, low);
    }

    @Override
    public String toString() {
        return hex();
    }

    /** Fingerprint of lexed tokens. */
    public static Fingerprint of(TokenBuffer tb) {
        long[] out = new long[2];
        compute(tb, out);
        return new Fingerprint(out[0], out[1]);
    }

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    static final long P1 = 0x9E3779B97F4A7C15L;
    static final long P2 = 0xC2B2AE3D27D4EB4FL;

    /** Lower-cases the ASCII letters of 8 packed bytes (SWAR); other bytes, including non-ASCII, unchanged. */
    static long lowerAscii(long w) {
        long heptets = w & 0x7F7F7F7F7F7F7F7FL;
        long geA = heptets + 0x3F3F3F3F3F3F3F3FL;
        long gtZ = heptets + 0x2525252525252525L;
        long upper = (geA ^ gtZ) & ~w & 0x8080808080808080L;
        return w | (upper >>> 2);
    }

    private static long fmix(long k) {
        k ^= k >>> 33;
        k *= 0xff51afd7ed558ccdL;
        k ^= k >>> 33;
        k *= 0xc4ceb9fe1a85ec53L;
        k ^= k >>> 33;
        return k;
    }

    /** Computes the fingerprint of {@code tb} into {@code out[0]} and {@code out[1]} without allocating. */
    public static void compute(TokenBuffer tb, long[] out) {
        long h1 = SEED1;
        long h2 = SEED2;
        final byte[] src = tb.src;
        final int limit = src.length - 8;
        final int[] kinds = tb.kind;
        final int[] starts = tb.start;
        final int[] ends = tb.end;
        boolean statementStart = true;
        boolean inDo = false;
        for (int t = 0, n = tb.count; t < n; t++) {
            int k = kinds[t];
            int s = starts[t];
            int e = ends[t];
            if (statementStart) {
                inDo = k == SqlLexer.IDENT && e - s == 2 && (src[s] | 0x20) == 'd' && (src[s + 1] | 0x20) == 'o';
            }
            statementStart = k == SqlLexer.SEMI;
            if (k == SqlLexer.NUMBER || k == SqlLexer.PARAM || (k == SqlLexer.STRING && !inDo)) {
                h1 = (h1 ^ PLACEHOLDER) * P1;
                h2 = (h2 + PLACEHOLDER) * P2;
                continue;
            }
            boolean lower = k == SqlLexer.IDENT;
            // kind and length are folded into the token's first word (every token has at least one byte)
            long w = ((long) (k == SqlLexer.STRING ? DO_BODY : k) << 32 | (e - s)) * 0xD6E8FEB86659FD93L;
            for (int j = s; j < e; j += 8) {
                int left = e - j;
                long v;
                if (j <= limit) {
                    v = (long) LONGS.get(src, j);
                    if (left < 8) {
                        v &= (1L << (left << 3)) - 1;
                    }
                } else {
                    v = 0;
                    for (int x = 0; x < left && x < 8; x++) {
                        v |= (src[j + x] & 0xffL) << (x << 3);
                    }
                }
                if (lower) {
                    v = lowerAscii(v);
                }
                w ^= v;
                h1 = (h1 ^ w) * P1;
                h2 = (h2 + w) * P2;
                w = 0;
            }
        }
        long flags = (tb.standardConformingStrings ? 1 : 2) | (tb.hint ? 4 : 0) | (tb.incomplete ? 8 : 0);
        h1 = (h1 ^ (200 + flags)) * P1;
        h2 = (h2 + 200 + flags) * P2;
        out[0] = fmix(h1 ^ tb.count);
        out[1] = fmix(Long.rotateLeft(h2, 29) + tb.count);
    }
}
