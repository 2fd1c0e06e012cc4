package io.pgrelay.core.classify;

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
    private static final long SEED1 = 0x9E3779B97F4A7C15L;
    private static final long SEED2 = 0xC2B2AE3D27D4EB4FL;
    private static final int PLACEHOLDER = 100;
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

    private static long m1(long h, int v) {
        return (h ^ v) * 0x100000001b3L;
    }

    private static long m2(long h, int v) {
        h += (v + 1) * 0xD6E8FEB86659FD93L;
        return Long.rotateLeft(h, 29) * 0x9FB21C651E98DF25L;
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
        byte[] src = tb.src;
        boolean statementStart = true;
        boolean inDo = false;
        for (int t = 0; t < tb.count; t++) {
            int k = tb.kind[t];
            int s = tb.start[t];
            int e = tb.end[t];
            if (statementStart) {
                inDo = k == SqlLexer.IDENT && tb.isWord(t, "do");
            }
            statementStart = k == SqlLexer.SEMI;
            switch (k) {
                case SqlLexer.STRING:
                    if (inDo) {
                        h1 = m1(h1, DO_BODY);
                        h2 = m2(h2, DO_BODY);
                        for (int j = s; j < e; j++) {
                            int b = src[j];
                            h1 = m1(h1, b);
                            h2 = m2(h2, b);
                        }
                        h1 = m1(h1, e - s);
                        h2 = m2(h2, e - s);
                        break;
                    }
                    h1 = m1(h1, PLACEHOLDER);
                    h2 = m2(h2, PLACEHOLDER);
                    break;
                case SqlLexer.NUMBER:
                case SqlLexer.PARAM:
                    h1 = m1(h1, PLACEHOLDER);
                    h2 = m2(h2, PLACEHOLDER);
                    break;
                case SqlLexer.IDENT:
                    h1 = m1(h1, k);
                    h2 = m2(h2, k);
                    for (int j = s; j < e; j++) {
                        int b = src[j];
                        if (b >= 'A' && b <= 'Z') {
                            b += 32;
                        }
                        h1 = m1(h1, b);
                        h2 = m2(h2, b);
                    }
                    h1 = m1(h1, e - s);
                    h2 = m2(h2, e - s);
                    break;
                default:
                    h1 = m1(h1, k);
                    h2 = m2(h2, k);
                    for (int j = s; j < e; j++) {
                        int b = src[j];
                        h1 = m1(h1, b);
                        h2 = m2(h2, b);
                    }
                    h1 = m1(h1, e - s);
                    h2 = m2(h2, e - s);
                    break;
            }
        }
        int flags = (tb.standardConformingStrings ? 1 : 2) | (tb.hint ? 4 : 0) | (tb.incomplete ? 8 : 0);
        h1 = m1(h1, 200 + flags);
        h2 = m2(h2, 200 + flags);
        out[0] = fmix(h1 ^ tb.count);
        out[1] = fmix(h2 + tb.count);
    }
}
