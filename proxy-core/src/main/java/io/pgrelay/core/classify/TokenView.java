package io.pgrelay.core.classify;

import java.nio.charset.StandardCharsets;

import static io.pgrelay.core.classify.SqlLexer.IDENT;
import static io.pgrelay.core.classify.SqlLexer.LBRACKET;
import static io.pgrelay.core.classify.SqlLexer.LPAREN;
import static io.pgrelay.core.classify.SqlLexer.QIDENT;
import static io.pgrelay.core.classify.SqlLexer.RBRACKET;
import static io.pgrelay.core.classify.SqlLexer.RPAREN;
import static io.pgrelay.core.classify.SqlLexer.DOT;

/**
 * Lexed tokens prepared for analysis: lower-cased words, parenthesis depth and matching
 * parentheses, plus the accessors the analysers read them with. The analysers of one statement
 * string share one view's arrays ({@link #TokenView(TokenView)}).
 */
abstract class TokenView {
    final TokenBuffer tb;
    final byte[] src;
    final int n;
    final BuiltinCatalog builtin = BuiltinCatalog.get();
    /** Lower-cased text of unquoted words, null for other tokens. */
    final String[] words;
    /** Parenthesis/bracket depth before each token (for a closing one: the depth of its opening one). */
    final int[] depth;
    /** Index of the matching parenthesis or bracket, -1 for other tokens. */
    final int[] match;
    final boolean balanced;
    /** Names followed by '(' that are not function calls (CTE names, type modifiers, ...). */
    final boolean[] notCall;

    /** A view over the same tokens as {@code shared}, with nothing computed again. */
    TokenView(TokenView shared) {
        this.tb = shared.tb;
        this.src = shared.src;
        this.n = shared.n;
        this.words = shared.words;
        this.depth = shared.depth;
        this.match = shared.match;
        this.balanced = shared.balanced;
        this.notCall = shared.notCall;
    }

    TokenView(TokenBuffer tb) {
        this.tb = tb;
        this.src = tb.src;
        this.n = tb.count;
        this.words = new String[n];
        this.depth = new int[n];
        this.match = new int[n];
        this.notCall = new boolean[n];
        int[] stack = new int[n + 1];
        int sp = 0;
        boolean ok = true;
        for (int i = 0; i < n; i++) {
            int k = tb.kind[i];
            match[i] = -1;
            if (k == IDENT) {
                words[i] = lower(tb.start[i], tb.end[i]);
            }
            if (k == LPAREN || k == LBRACKET) {
                depth[i] = sp;
                stack[sp++] = i;
            } else if (k == RPAREN || k == RBRACKET) {
                if (sp == 0) {
                    ok = false;
                    depth[i] = 0;
                } else {
                    int open = stack[--sp];
                    match[open] = i;
                    match[i] = open;
                    depth[i] = sp;
                }
            } else {
                depth[i] = sp;
            }
        }
        this.balanced = ok && sp == 0;
    }

    private String lower(int s, int e) {
        char[] c = new char[e - s];
        boolean ascii = true;
        for (int j = s; j < e; j++) {
            int b = src[j];
            if (b < 0) {
                ascii = false;
                break;
            }
            if (b >= 'A' && b <= 'Z') {
                b += 32;
            }
            c[j - s] = (char) b;
        }
        if (ascii) {
            return new String(c);
        }
        String t = new String(src, s, e - s, StandardCharsets.UTF_8);
        StringBuilder sb = new StringBuilder(t.length());
        for (int j = 0; j < t.length(); j++) {
            char ch = t.charAt(j);
            sb.append(ch >= 'A' && ch <= 'Z' ? (char) (ch + 32) : ch);
        }
        return sb.toString();
    }

    // ------------------------------------------------------------------ token helpers

    final int k(int i) {
        return i >= 0 && i < n ? tb.kind[i] : -1;
    }

    final String w(int i) {
        return i >= 0 && i < n ? words[i] : null;
    }

    final boolean is(int i, String word) {
        return i >= 0 && i < n && word.equals(words[i]);
    }

    final boolean isNameTok(int i) {
        int kk = k(i);
        return kk == QIDENT || (kk == IDENT && !"R".equals(builtin.keywordCategory(words[i])));
    }

    final boolean isAnyName(int i) {
        int kk = k(i);
        return kk == QIDENT || kk == IDENT;
    }

    /** The identifier's name: lower-cased for unquoted, unescaped for quoted. */
    String name(int i) {
        if (tb.kind[i] == IDENT) {
            return words[i];
        }
        int s = tb.start[i];
        int e = tb.end[i];
        if (src[s] == 'U' || src[s] == 'u') {
            s += 2;
        }
        String t = new String(src, s + 1, e - s - 2, StandardCharsets.UTF_8);
        return t.replace("\"\"", "\"");
    }

    /** The index just after the identifier chain starting at {@code i} ({@code a.b.c}). */
    final int chainEnd(int i) {
        int j = i + 1;
        while (k(j) == DOT && isAnyName(j + 1)) {
            j += 2;
        }
        return j;
    }

    String text(int from, int to) {
        return tb.text(from, to);
    }

    /** The decoded value of a string literal token, or null when it is not a string. */
    String stringValue(int i) {
        return i >= 0 && i < n ? tb.stringValue(i) : null;
    }

}
