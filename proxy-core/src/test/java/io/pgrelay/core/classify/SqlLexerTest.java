package io.pgrelay.core.classify;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class SqlLexerTest {
    private static TokenBuffer lex(String sql, boolean scs) {
        byte[] b = sql.getBytes(StandardCharsets.UTF_8);
        TokenBuffer tb = new TokenBuffer();
        SqlLexer.lex(b, 0, b.length, scs, tb);
        return tb;
    }

    /** "KIND:text" per token. */
    private static List<String> tokens(String sql) {
        return tokens(sql, true);
    }

    private static List<String> tokens(String sql, boolean scs) {
        TokenBuffer tb = lex(sql, scs);
        List<String> out = new ArrayList<>();
        String[] names = {"?", "ID", "QID", "STR", "NUM", "PARAM", "OP", "(", ")", "[", "]", ",", ";", ".", ":", "::"};
        for (int i = 0; i < tb.count(); i++) {
            out.add(names[tb.kind(i)] + ":" + tb.text(i));
        }
        return out;
    }

    @Test
    void lineAndNestedBlockComments() {
        assertThat(tokens("SELECT 1 -- trailing DELETE FROM customers")).containsExactly("ID:SELECT", "NUM:1");
        assertThat(tokens("SELECT /* nested /* DELETE */ still; DROP TABLE x; */ count(*)"))
                .containsExactly("ID:SELECT", "ID:count", "(:(", "OP:*", "):)");
        assertThat(tokens("/* outer /* inner */ SELECT 1; */ UPDATE t SET a = 1")).first().isEqualTo("ID:UPDATE");
        assertThat(lex("SELECT /* /* */", true).incomplete()).isTrue();
        assertThat(tokens("--\n--\n/* */\nSELECT 3")).containsExactly("ID:SELECT", "NUM:3");
    }

    @Test
    void standardStringsWithDoubledQuotes() {
        assertThat(tokens("SELECT 'a''b; DELETE' , 'x'")).containsExactly("ID:SELECT", "STR:'a''b; DELETE'",
                ",:,", "STR:'x'");
        assertThat(tokens("SELECT 'a;b;c' AS semi, $$;$$ AS semi2")).hasSize(8);
    }

    @Test
    void backslashIsLiteralUnderStandardConformingStrings() {
        // scs on: '\' is a complete string, the rest is real SQL
        assertThat(tokens("SELECT '\\'; UPDATE c SET n = n; --'")).contains("ID:UPDATE");
        // scs off: backslash escapes the quote, everything is one string
        assertThat(tokens("SELECT '\\'; UPDATE c SET n = n; --'", false)).containsExactly("ID:SELECT",
                "STR:'\\'; UPDATE c SET n = n; --'");
    }

    @Test
    void escapeStrings() {
        assertThat(tokens("SELECT E'\\'; UPDATE customers; --' AS s")).containsExactly("ID:SELECT",
                "STR:E'\\'; UPDATE customers; --'", "ID:AS", "ID:s");
        assertThat(tokens("SELECT e'it''s'")).containsExactly("ID:SELECT", "STR:e'it''s'");
    }

    @Test
    void unicodeBitHexAndNationalStrings() {
        assertThat(tokens("SELECT U&'\\0044ELETE' AS s")).containsExactly("ID:SELECT", "STR:U&'\\0044ELETE'",
                "ID:AS", "ID:s");
        assertThat(tokens("SELECT B'1010', X'FF', N'x'")).containsExactly("ID:SELECT", "STR:B'1010'", ",:,",
                "STR:X'FF'", ",:,", "STR:N'x'");
        assertThat(tokens("SELECT U&\"d\\0061t\" FROM t")).contains("QID:U&\"d\\0061t\"");
    }

    @Test
    void dollarQuotes() {
        assertThat(tokens("SELECT $$UPDATE customers SET name = 'x'$$")).containsExactly("ID:SELECT",
                "STR:$$UPDATE customers SET name = 'x'$$");
        assertThat(tokens("DO $do$ BEGIN PERFORM 1; $x$ not the end $x$ END $do$")).hasSize(2);
        assertThat(tokens("SELECT $1, $2::int")).containsExactly("ID:SELECT", "PARAM:$1", ",:,", "PARAM:$2",
                ":::::", "ID:int");
        assertThat(tokens("SELECT $a$x$a$")).containsExactly("ID:SELECT", "STR:$a$x$a$");
        assertThat(lex("SELECT $tag$ never closed", true).incomplete()).isTrue();
        // $ inside an identifier is an identifier character, not a quote
        assertThat(tokens("SELECT a$b$ FROM t")).containsExactly("ID:SELECT", "ID:a$b$", "ID:FROM", "ID:t");
    }

    @Test
    void quotedIdentifiers() {
        assertThat(tokens("SELECT \"update\", \"a\"\"b\" FROM \"order\"")).containsExactly("ID:SELECT",
                "QID:\"update\"", ",:,", "QID:\"a\"\"b\"", "ID:FROM", "QID:\"order\"");
        assertThat(tokens("SELECT 1 AS \"select; DELETE FROM customers\"")).hasSize(4);
        assertThat(lex("SELECT \"unterminated", true).incomplete()).isTrue();
        assertThat(lex("SELECT 'unterminated", true).incomplete()).isTrue();
    }

    @Test
    void numbersOperatorsAndPunctuation() {
        assertThat(tokens("SELECT 1.5e-3, .5, 42::text, a->>'k', x <> y, 1..2"))
                .contains("NUM:1.5e-3", "NUM:.5", "NUM:42", ":::::", "OP:->>", "OP:<>", "NUM:1", "OP:..", "NUM:2");
        assertThat(tokens("SELECT a[1:2]")).containsExactly("ID:SELECT", "ID:a", "[:[", "NUM:1", ":::", "NUM:2", "]:]");
        // an operator stops before a comment start, and trailing + / - are split off as PostgreSQL does
        assertThat(tokens("SELECT 1+-2")).containsExactly("ID:SELECT", "NUM:1", "OP:+", "OP:-", "NUM:2");
        assertThat(tokens("SELECT 1 +/* c */ 2")).containsExactly("ID:SELECT", "NUM:1", "OP:+", "NUM:2");
        assertThat(tokens("SELECT x := 1, :name")).contains("OP::=", ":::", "ID:name");
    }

    @Test
    void unicodeIdentifiersAndWhitespace() {
        assertThat(tokens("\u000cSELECT 1 AS \"Ärger\", größe FROM \"größen\"")).contains("ID:größe",
                "QID:\"größen\"", "QID:\"Ärger\"");
        assertThat(tokens("\n\n\tSELECT\n*\nFROM\nx")).containsExactly("ID:SELECT", "OP:*", "ID:FROM", "ID:x");
    }

    @Test
    void hintComments() {
        assertThat(lex("/* pgrelay:primary */ SELECT 1", true).hint()).isTrue();
        assertThat(lex("SELECT 1 /* PgRelay:Primary */", true).hint()).isTrue();
        assertThat(lex("SELECT 1 -- pgrelay:primary", true).hint()).isTrue();
        assertThat(lex("SELECT 'pgrelay:primary'", true).hint()).isFalse();
        assertThat(lex("SELECT 1 /* pgrelay */", true).hint()).isFalse();
    }

    @Test
    void wordComparisonIsCaseInsensitive() {
        TokenBuffer tb = lex("SeLeCt", true);
        assertThat(tb.isWord(0, "select")).isTrue();
        assertThat(tb.isWord(0, "selec")).isFalse();
    }
}
