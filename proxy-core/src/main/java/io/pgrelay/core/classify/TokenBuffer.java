package io.pgrelay.core.classify;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The tokens {@link SqlLexer} found in a byte range, as parallel int arrays (kind, start, end,
 * aux). Reused per thread: after warm-up, lexing allocates nothing.
 */
public final class TokenBuffer {
    int[] kind = new int[128];
    int[] start = new int[128];
    int[] end = new int[128];
    /** For strings: {@link SqlLexer#STR_PLAIN} etc.; for dollar strings the tag length (incl. both '$'). */
    int[] aux = new int[128];
    int count;
    boolean incomplete;
    boolean hint;
    boolean standardConformingStrings;
    byte[] src;

    /** The lexed text: {@code src[textStart, textEnd)}. */
    int textStart;
    int textEnd;

    void reset(byte[] src, boolean scs) {
        reset(src, 0, src.length, scs);
    }

    void reset(byte[] src, int from, int to, boolean scs) {
        this.src = src;
        this.textStart = from;
        this.textEnd = to;
        this.count = 0;
        this.incomplete = false;
        this.hint = false;
        this.standardConformingStrings = scs;
    }

    void add(int k, int s, int e, int a) {
        if (count == kind.length) {
            int n = count * 2;
            kind = Arrays.copyOf(kind, n);
            start = Arrays.copyOf(start, n);
            end = Arrays.copyOf(end, n);
            aux = Arrays.copyOf(aux, n);
        }
        kind[count] = k;
        start[count] = s;
        end[count] = e;
        aux[count] = a;
        count++;
    }

    public int count() {
        return count;
    }

    int capacity() {
        return kind.length;
    }

    /**
     * The length of the text as the analysis sees it: every token's bytes, a literal (string,
     * number, parameter) counted as one placeholder byte, whitespace and comments not at all. A DO
     * body counts in full: it is code. Walks the tokens; for the rare long statement only.
     */
    public int strippedLength() {
        int length = 0;
        boolean statementStart = true;
        boolean inDo = false;
        for (int t = 0; t < count; t++) {
            int k = kind[t];
            if (statementStart) {
                inDo = isWord(t, "do");
            }
            statementStart = k == SqlLexer.SEMI;
            boolean literal = k == SqlLexer.NUMBER || k == SqlLexer.PARAM || (k == SqlLexer.STRING && !inDo);
            length += literal ? 1 : end[t] - start[t];
        }
        return length;
    }

    public int kind(int i) {
        return kind[i];
    }

    public int start(int i) {
        return start[i];
    }

    public int end(int i) {
        return end[i];
    }

    public int aux(int i) {
        return aux[i];
    }

    /** True when a string, comment or quoted identifier was not terminated. */
    public boolean incomplete() {
        return incomplete;
    }

    /** True when a {@code pgrelay:primary} hint comment was seen. */
    public boolean hint() {
        return hint;
    }

    /** The raw text of token {@code i}. */
    public String text(int i) {
        return new String(src, start[i], end[i] - start[i], StandardCharsets.UTF_8);
    }

    /** True when token {@code i} is an unquoted word equal (case-insensitively) to lower-case ASCII {@code kw}. */
    public boolean isWord(int i, String kw) {
        if (i < 0 || i >= count || kind[i] != SqlLexer.IDENT) {
            return false;
        }
        int s = start[i];
        int len = end[i] - s;
        if (len != kw.length()) {
            return false;
        }
        for (int j = 0; j < len; j++) {
            int c = src[s + j];
            if (c >= 'A' && c <= 'Z') {
                c += 32;
            }
            if (c != kw.charAt(j)) {
                return false;
            }
        }
        return true;
    }

    /** The whole lexed text, as the client sent it. */
    public String wholeText() {
        return new String(src, textStart, textEnd - textStart, StandardCharsets.UTF_8);
    }

    /** The raw text of tokens {@code [from, to)}, whitespace and comments between them included. */
    public String text(int from, int to) {
        if (to <= from) {
            return "";
        }
        return new String(src, start[from], end[to - 1] - start[from], StandardCharsets.UTF_8);
    }

    /** The decoded value of string literal token {@code i}, or null when it is not a string. */
    public String stringValue(int i) {
        if (kind[i] != SqlLexer.STRING) {
            return null;
        }
        int s = start[i];
        int e = end[i];
        int a = aux[i];
        if (a >= 2) {
            return new String(src, s + a, e - s - 2 * a, StandardCharsets.UTF_8);
        }
        int bodyStart = a == SqlLexer.STR_PLAIN ? s + 1 : a == SqlLexer.STR_UNICODE ? s + 3 : s + 2;
        String body = new String(src, bodyStart, e - 1 - bodyStart, StandardCharsets.UTF_8);
        boolean backslash = a == SqlLexer.STR_ESCAPE
                || ((a == SqlLexer.STR_PLAIN || a == SqlLexer.STR_NATIONAL) && !standardConformingStrings);
        if (!backslash) {
            return body.replace("''", "'");
        }
        StringBuilder sb = new StringBuilder(body.length());
        for (int j = 0; j < body.length(); j++) {
            char c = body.charAt(j);
            if (c == '\'' && j + 1 < body.length() && body.charAt(j + 1) == '\'') {
                sb.append('\'');
                j++;
            } else if (c == '\\' && j + 1 < body.length()) {
                char d = body.charAt(++j);
                switch (d) {
                    case 'n' -> sb.append('\n');
                    case 't' -> sb.append('\t');
                    case 'r' -> sb.append('\r');
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    default -> sb.append(d);
                }
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }
}
