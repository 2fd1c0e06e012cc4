package io.pgrelay.core.classify;

/**
 * A hand-written PostgreSQL lexer over UTF-8 bytes, following the rules of PostgreSQL's
 * {@code src/backend/parser/scan.l} where they matter for classification: {@code --} and nested
 * {@code /* *}{@code /} comments, standard strings with {@code ''} (and backslash escapes when
 * {@code standard_conforming_strings} is off), {@code E''}, {@code U&''}, {@code B''}, {@code X''},
 * {@code N''} strings, dollar-quoted strings with tags, quoted identifiers (also {@code U&""}),
 * numbers, parameters {@code $n}, multi-character operators and punctuation. All syntax is ASCII;
 * bytes {@code >= 0x80} are identifier characters, as in scan.l.
 *
 * <p>The lexer writes into a reusable {@link TokenBuffer} and allocates nothing. An unterminated
 * string, comment or quoted identifier sets {@link TokenBuffer#incomplete()} (the classifier then
 * routes to the primary). A comment containing {@code pgrelay:primary} (any case) sets
 * {@link TokenBuffer#hint()}.
 */
public final class SqlLexer {
    /** Unquoted identifier or keyword. */
    public static final int IDENT = 1;
    /** Quoted identifier ({@code "..."} or {@code U&"..."}). */
    public static final int QIDENT = 2;
    /** String literal of any kind, including dollar-quoted ({@link TokenBuffer#aux(int)} tells which). */
    public static final int STRING = 3;
    /** Numeric literal. */
    public static final int NUMBER = 4;
    /** Parameter {@code $n}. */
    public static final int PARAM = 5;
    /** Operator (one or more operator characters, or an unknown character). */
    public static final int OP = 6;
    public static final int LPAREN = 7;
    public static final int RPAREN = 8;
    public static final int LBRACKET = 9;
    public static final int RBRACKET = 10;
    public static final int COMMA = 11;
    public static final int SEMI = 12;
    public static final int DOT = 13;
    public static final int COLON = 14;
    /** {@code ::}. */
    public static final int TYPECAST = 15;

    /** String kinds in {@link TokenBuffer#aux(int)} (dollar strings store the tag length instead, {@code >= 2}). */
    public static final int STR_PLAIN = -1;
    public static final int STR_ESCAPE = -2;
    public static final int STR_UNICODE = -3;
    public static final int STR_BIT = -4;
    public static final int STR_NATIONAL = -5;

    private static final byte[] HINT = "pgrelay:primary".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private SqlLexer() {
    }

    static boolean identStart(int c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
    }

    static boolean identCont(int c) {
        return identStart(c) || (c >= '0' && c <= '9') || c == '$';
    }

    private static boolean isDigit(int c) {
        return c >= '0' && c <= '9';
    }

    private static boolean isOpChar(int c) {
        switch (c) {
            case '~': case '!': case '@': case '#': case '^': case '&': case '|': case '`': case '?':
            case '+': case '-': case '*': case '/': case '%': case '<': case '>': case '=':
                return true;
            default:
                return false;
        }
    }

    private static boolean isWhitespace(int c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0x0b;
    }

    /**
     * Lexes {@code src[off, off+len)} into {@code out}.
     *
     * @param scs the session's {@code standard_conforming_strings}: when false, backslash escapes
     *            apply inside plain {@code ''} strings too
     */
    public static void lex(byte[] src, int off, int len, boolean scs, TokenBuffer out) {
        out.reset(src, scs);
        int i = off;
        final int end = off + len;
        while (i < end) {
            int c = src[i] & 0xff;
            if (isWhitespace(c)) {
                i++;
                continue;
            }
            int next = i + 1 < end ? src[i + 1] & 0xff : -1;
            if (c == '-' && next == '-') {
                int s = i + 2;
                int j = s;
                while (j < end && src[j] != '\n' && src[j] != '\r') {
                    j++;
                }
                checkHint(src, s, j, out);
                i = j;
                continue;
            }
            if (c == '/' && next == '*') {
                int j = i + 2;
                int depth = 1;
                while (j < end && depth > 0) {
                    int d = src[j];
                    if (d == '/' && j + 1 < end && src[j + 1] == '*') {
                        depth++;
                        j += 2;
                    } else if (d == '*' && j + 1 < end && src[j + 1] == '/') {
                        depth--;
                        j += 2;
                    } else {
                        j++;
                    }
                }
                if (depth > 0) {
                    out.incomplete = true;
                    return;
                }
                checkHint(src, i + 2, j - 2, out);
                i = j;
                continue;
            }
            if (c == '\'') {
                i = string(src, i, i + 1, end, !scs, STR_PLAIN, out);
                if (i < 0) {
                    return;
                }
                continue;
            }
            if (identStart(c)) {
                int lc = c | 0x20;
                if (next == '\'') {
                    if (lc == 'e') {
                        i = string(src, i, i + 2, end, true, STR_ESCAPE, out);
                    } else if (lc == 'b' || lc == 'x') {
                        i = string(src, i, i + 2, end, false, STR_BIT, out);
                    } else if (lc == 'n') {
                        i = string(src, i, i + 2, end, !scs, STR_NATIONAL, out);
                    } else {
                        i = ident(src, i, end, out);
                        continue;
                    }
                    if (i < 0) {
                        return;
                    }
                    continue;
                }
                if (lc == 'u' && next == '&' && i + 2 < end && (src[i + 2] == '\'' || src[i + 2] == '"')) {
                    if (src[i + 2] == '\'') {
                        i = string(src, i, i + 3, end, false, STR_UNICODE, out);
                    } else {
                        i = quotedIdent(src, i, i + 3, end, out);
                    }
                    if (i < 0) {
                        return;
                    }
                    continue;
                }
                i = ident(src, i, end, out);
                continue;
            }
            if (c == '"') {
                i = quotedIdent(src, i, i + 1, end, out);
                if (i < 0) {
                    return;
                }
                continue;
            }
            if (c == '$') {
                if (isDigit(next)) {
                    int j = i + 1;
                    while (j < end && isDigit(src[j])) {
                        j++;
                    }
                    out.add(PARAM, i, j, 0);
                    i = j;
                    continue;
                }
                int tagEnd = -1;
                if (next == '$') {
                    tagEnd = i + 2;
                } else if (next >= 0 && identStart(next)) {
                    int j = i + 2;
                    while (j < end && identCont(src[j] & 0xff) && src[j] != '$') {
                        j++;
                    }
                    if (j < end && src[j] == '$') {
                        tagEnd = j + 1;
                    }
                }
                if (tagEnd < 0) {
                    out.add(OP, i, i + 1, 0);
                    i++;
                    continue;
                }
                int tagLen = tagEnd - i;
                int close = findTag(src, tagEnd, end, i, tagLen);
                if (close < 0) {
                    out.incomplete = true;
                    return;
                }
                out.add(STRING, i, close + tagLen, tagLen);
                i = close + tagLen;
                continue;
            }
            if (isDigit(c) || (c == '.' && isDigit(next))) {
                int j = i;
                while (j < end && isDigit(src[j])) {
                    j++;
                }
                if (j < end && src[j] == '.' && !(j + 1 < end && src[j + 1] == '.')) {
                    j++;
                    while (j < end && isDigit(src[j])) {
                        j++;
                    }
                }
                if (j < end && (src[j] == 'e' || src[j] == 'E')) {
                    int k = j + 1;
                    if (k < end && (src[k] == '+' || src[k] == '-')) {
                        k++;
                    }
                    if (k < end && isDigit(src[k])) {
                        j = k;
                        while (j < end && isDigit(src[j])) {
                            j++;
                        }
                    }
                }
                out.add(NUMBER, i, j, 0);
                i = j;
                continue;
            }
            switch (c) {
                case '(': out.add(LPAREN, i, i + 1, 0); i++; continue;
                case ')': out.add(RPAREN, i, i + 1, 0); i++; continue;
                case '[': out.add(LBRACKET, i, i + 1, 0); i++; continue;
                case ']': out.add(RBRACKET, i, i + 1, 0); i++; continue;
                case ',': out.add(COMMA, i, i + 1, 0); i++; continue;
                case ';': out.add(SEMI, i, i + 1, 0); i++; continue;
                case '.':
                    if (next == '.') {
                        out.add(OP, i, i + 2, 0);
                        i += 2;
                    } else {
                        out.add(DOT, i, i + 1, 0);
                        i++;
                    }
                    continue;
                case ':':
                    if (next == ':') {
                        out.add(TYPECAST, i, i + 2, 0);
                        i += 2;
                    } else if (next == '=') {
                        out.add(OP, i, i + 2, 0);
                        i += 2;
                    } else {
                        out.add(COLON, i, i + 1, 0);
                        i++;
                    }
                    continue;
                default:
                    break;
            }
            if (isOpChar(c)) {
                int j = i;
                while (j < end && isOpChar(src[j] & 0xff)) {
                    if (j > i && ((src[j] == '-' && src[j - 1] == '-') || (src[j] == '*' && src[j - 1] == '/'))) {
                        j--;
                        break;
                    }
                    j++;
                }
                int opEnd = j;
                if (opEnd - i > 1 && (src[opEnd - 1] == '+' || src[opEnd - 1] == '-')) {
                    boolean special = false;
                    for (int k = i; k < opEnd; k++) {
                        int d = src[k];
                        if (d == '~' || d == '!' || d == '@' || d == '#' || d == '^' || d == '&' || d == '|'
                                || d == '`' || d == '?' || d == '%') {
                            special = true;
                            break;
                        }
                    }
                    if (!special) {
                        while (opEnd - i > 1 && (src[opEnd - 1] == '+' || src[opEnd - 1] == '-')) {
                            opEnd--;
                        }
                    }
                }
                out.add(OP, i, opEnd, 0);
                i = opEnd;
                continue;
            }
            // an unexpected character: PostgreSQL reports a syntax error; we keep it as an operator
            int j = i + 1;
            while (j < end && (src[j] & 0xc0) == 0x80) {
                j++;
            }
            out.add(OP, i, j, 0);
            i = j;
        }
    }

    private static int ident(byte[] src, int i, int end, TokenBuffer out) {
        int j = i + 1;
        while (j < end && identCont(src[j] & 0xff)) {
            j++;
        }
        out.add(IDENT, i, j, 0);
        return j;
    }

    /** Scans a quoted string whose body starts at {@code body}; returns the index after it, or -1 (incomplete). */
    private static int string(byte[] src, int tokStart, int body, int end, boolean backslash, int kind,
            TokenBuffer out) {
        int j = body;
        while (j < end) {
            byte b = src[j];
            if (b == '\\' && backslash) {
                j += 2;
                continue;
            }
            if (b == '\'') {
                if (j + 1 < end && src[j + 1] == '\'') {
                    j += 2;
                    continue;
                }
                out.add(STRING, tokStart, j + 1, kind);
                return j + 1;
            }
            j++;
        }
        out.incomplete = true;
        return -1;
    }

    private static int quotedIdent(byte[] src, int tokStart, int body, int end, TokenBuffer out) {
        int j = body;
        while (j < end) {
            if (src[j] == '"') {
                if (j + 1 < end && src[j + 1] == '"') {
                    j += 2;
                    continue;
                }
                out.add(QIDENT, tokStart, j + 1, 0);
                return j + 1;
            }
            j++;
        }
        out.incomplete = true;
        return -1;
    }

    private static int findTag(byte[] src, int from, int end, int tagStart, int tagLen) {
        outer:
        for (int j = from; j + tagLen <= end; j++) {
            if (src[j] != '$') {
                continue;
            }
            for (int k = 1; k < tagLen; k++) {
                if (src[j + k] != src[tagStart + k]) {
                    continue outer;
                }
            }
            return j;
        }
        return -1;
    }

    private static void checkHint(byte[] src, int from, int to, TokenBuffer out) {
        int n = HINT.length;
        outer:
        for (int j = from; j + n <= to; j++) {
            for (int k = 0; k < n; k++) {
                int c = src[j + k];
                if (c >= 'A' && c <= 'Z') {
                    c += 32;
                }
                if (c != HINT[k]) {
                    continue outer;
                }
            }
            out.hint = true;
            return;
        }
    }
}
