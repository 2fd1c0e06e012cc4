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

    private static final byte C_START = 1;
    private static final byte C_CONT = 2;
    private static final byte C_WS = 4;
    private static final byte[] CLASS = new byte[256];

    static {
        for (int c = 0; c < 256; c++) {
            boolean start = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
            boolean cont = start || (c >= '0' && c <= '9') || c == '$';
            boolean ws = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0x0b;
            CLASS[c] = (byte) ((start ? C_START : 0) | (cont ? C_CONT : 0) | (ws ? C_WS : 0));
        }
    }

    private static final byte D_OTHER = 0;
    private static final byte D_WS = 1;
    private static final byte D_IDENT = 2;
    private static final byte D_DIGIT = 3;
    private static final byte D_QUOTE = 4;
    private static final byte D_DQUOTE = 5;
    private static final byte D_DOLLAR = 6;
    private static final byte D_PUNCT = 7;
    private static final byte D_DOT = 8;
    private static final byte D_COLON = 9;
    private static final byte D_OP = 10;
    private static final byte[] DISPATCH = new byte[256];
    private static final int[] PUNCT_KIND = new int[256];

    static {
        for (int c = 0; c < 256; c++) {
            byte d = D_OTHER;
            if ((CLASS[c] & C_WS) != 0) {
                d = D_WS;
            } else if ((CLASS[c] & C_START) != 0) {
                d = D_IDENT;
            } else if (c >= '0' && c <= '9') {
                d = D_DIGIT;
            } else if (c == '\'') {
                d = D_QUOTE;
            } else if (c == '"') {
                d = D_DQUOTE;
            } else if (c == '$') {
                d = D_DOLLAR;
            } else if (c == '(' || c == ')' || c == '[' || c == ']' || c == ',' || c == ';') {
                d = D_PUNCT;
            } else if (c == '.') {
                d = D_DOT;
            } else if (c == ':') {
                d = D_COLON;
            } else if (isOpChar(c)) {
                d = D_OP;
            }
            DISPATCH[c] = d;
        }
        PUNCT_KIND['('] = LPAREN;
        PUNCT_KIND[')'] = RPAREN;
        PUNCT_KIND['['] = LBRACKET;
        PUNCT_KIND[']'] = RBRACKET;
        PUNCT_KIND[','] = COMMA;
        PUNCT_KIND[';'] = SEMI;
    }

    static boolean identStart(int c) {
        return (CLASS[c & 0xff] & C_START) != 0;
    }

    static boolean identCont(int c) {
        return (CLASS[c & 0xff] & C_CONT) != 0;
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

    /**
     * Lexes {@code src[off, off+len)} into {@code out}.
     *
     * @param scs the session's {@code standard_conforming_strings}: when false, backslash escapes
     *            apply inside plain {@code ''} strings too
     */
    public static void lex(byte[] src, int off, int len, boolean scs, TokenBuffer out) {
        out.reset(src, off, off + len, scs);
        int i = off;
        final int end = off + len;
        while (i < end) {
            int c = src[i] & 0xff;
            if (c == ' ') {
                i++;
                continue;
            }
            switch (DISPATCH[c]) {
                case D_WS:
                    i++;
                    continue;
                case D_IDENT: {
                    int next = i + 1 < end ? src[i + 1] : -1;
                    if (next == '\'' || next == '&') {
                        int j = prefixedString(src, i, end, next, scs, out);
                        if (j == -1) {
                            return;
                        }
                        if (j > 0) {
                            i = j;
                            continue;
                        }
                    }
                    int j = i + 1;
                    while (j < end && (CLASS[src[j] & 0xff] & C_CONT) != 0) {
                        j++;
                    }
                    out.add(IDENT, i, j, 0);
                    i = j;
                    continue;
                }
                case D_DIGIT:
                    i = number(src, i, end, out);
                    continue;
                case D_QUOTE:
                    i = string(src, i, i + 1, end, !scs, STR_PLAIN, out);
                    if (i < 0) {
                        return;
                    }
                    continue;
                case D_DQUOTE:
                    i = quotedIdent(src, i, i + 1, end, out);
                    if (i < 0) {
                        return;
                    }
                    continue;
                case D_DOLLAR:
                    i = dollar(src, i, end, out);
                    if (i < 0) {
                        return;
                    }
                    continue;
                case D_PUNCT:
                    out.add(PUNCT_KIND[c], i, i + 1, 0);
                    i++;
                    continue;
                case D_DOT:
                    if (i + 1 < end && isDigit(src[i + 1])) {
                        i = number(src, i, end, out);
                    } else if (i + 1 < end && src[i + 1] == '.') {
                        out.add(OP, i, i + 2, 0);
                        i += 2;
                    } else {
                        out.add(DOT, i, i + 1, 0);
                        i++;
                    }
                    continue;
                case D_COLON:
                    if (i + 1 < end && src[i + 1] == ':') {
                        out.add(TYPECAST, i, i + 2, 0);
                        i += 2;
                    } else if (i + 1 < end && src[i + 1] == '=') {
                        out.add(OP, i, i + 2, 0);
                        i += 2;
                    } else {
                        out.add(COLON, i, i + 1, 0);
                        i++;
                    }
                    continue;
                case D_OP: {
                    int next = i + 1 < end ? src[i + 1] : -1;
                    if (c == '-' && next == '-') {
                        int j = i + 2;
                        while (j < end && src[j] != '\n' && src[j] != '\r') {
                            j++;
                        }
                        checkHint(src, i + 2, j, out);
                        i = j;
                        continue;
                    }
                    if (c == '/' && next == '*') {
                        i = blockComment(src, i, end, out);
                        if (i < 0) {
                            return;
                        }
                        continue;
                    }
                    i = operator(src, i, end, out);
                    continue;
                }
                default: {
                    // an unexpected character: PostgreSQL reports a syntax error; we keep it as an operator
                    int j = i + 1;
                    while (j < end && (src[j] & 0xc0) == 0x80) {
                        j++;
                    }
                    out.add(OP, i, j, 0);
                    i = j;
                }
            }
        }
    }

    /** E'', B'', X'', N'', U&'' strings and U&"" identifiers; 0 when {@code i} starts a plain identifier, -1 if incomplete. */
    private static int prefixedString(byte[] src, int i, int end, int next, boolean scs, TokenBuffer out) {
        int lc = src[i] | 0x20;
        if (next == '\'') {
            if (lc == 'e') {
                return string(src, i, i + 2, end, true, STR_ESCAPE, out);
            } else if (lc == 'b' || lc == 'x') {
                return string(src, i, i + 2, end, false, STR_BIT, out);
            } else if (lc == 'n') {
                return string(src, i, i + 2, end, !scs, STR_NATIONAL, out);
            }
            return 0;
        }
        if (lc == 'u' && i + 2 < end) {
            if (src[i + 2] == '\'') {
                return string(src, i, i + 3, end, false, STR_UNICODE, out);
            }
            if (src[i + 2] == '"') {
                return quotedIdent(src, i, i + 3, end, out);
            }
        }
        return 0;
    }

    private static int blockComment(byte[] src, int i, int end, TokenBuffer out) {
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
            return -1;
        }
        checkHint(src, i + 2, j - 2, out);
        return j;
    }

    private static int number(byte[] src, int i, int end, TokenBuffer out) {
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
        return j;
    }

    private static int dollar(byte[] src, int i, int end, TokenBuffer out) {
        int next = i + 1 < end ? src[i + 1] & 0xff : -1;
        if (next >= 0 && isDigit(next)) {
            int j = i + 1;
            while (j < end && isDigit(src[j])) {
                j++;
            }
            out.add(PARAM, i, j, 0);
            return j;
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
            return i + 1;
        }
        int tagLen = tagEnd - i;
        int close = findTag(src, tagEnd, end, i, tagLen);
        if (close < 0) {
            out.incomplete = true;
            return -1;
        }
        out.add(STRING, i, close + tagLen, tagLen);
        return close + tagLen;
    }

    private static int operator(byte[] src, int i, int end, TokenBuffer out) {
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
        return opEnd;
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
