package io.pgrelay.core.classify;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class FingerprintTest {
    private static Fingerprint fp(String sql) {
        return Classifier.fingerprint(sql, true);
    }

    @Test
    void literalsAndParametersAreNormalized() {
        assertThat(fp("SELECT abalance FROM pgbench_accounts WHERE aid = 42"))
                .isEqualTo(fp("SELECT abalance FROM pgbench_accounts WHERE aid = 977"))
                .isEqualTo(fp("SELECT abalance FROM pgbench_accounts WHERE aid = $1"))
                .isEqualTo(fp("select  abalance\nFROM pgbench_accounts /* c */ where aid='x'"));
        assertThat(fp("SELECT E'a\\'b', $$x$$, U&'d', B'1', 1.5e3")).isEqualTo(fp("SELECT 'z', 'y', 'x', 'w', 7"));
    }

    @Test
    void codeDifferencesChangeTheFingerprint() {
        assertThat(fp("SELECT a FROM t")).isNotEqualTo(fp("SELECT b FROM t"));
        assertThat(fp("SELECT a FROM t")).isNotEqualTo(fp("SELECT a FROM t FOR UPDATE"));
        assertThat(fp("SELECT 1 + 2")).isNotEqualTo(fp("SELECT 1 - 2"));
        assertThat(fp("SELECT \"A\" FROM t")).isNotEqualTo(fp("SELECT \"a\" FROM t"));
        assertThat(fp("SELECT A FROM t")).isEqualTo(fp("SELECT \"a\" FROM t".replace("\"a\"", "a")));
        assertThat(fp("SELECT ab FROM t")).isNotEqualTo(fp("SELECT a b FROM t"));
        assertThat(fp("SELECT 1 WHERE true")).isNotEqualTo(fp("SELECT 1 WHERE false"));
    }

    @Test
    void hintCommentAndModeChangeTheFingerprint() {
        assertThat(fp("/* pgrelay:primary */ SELECT 1")).isNotEqualTo(fp("SELECT 1"));
        assertThat(fp("/* any comment */ SELECT 1")).isEqualTo(fp("SELECT 1"));
        assertThat(Classifier.fingerprint("SELECT 'a'", true)).isNotEqualTo(Classifier.fingerprint("SELECT 'a'", false));
    }

    @Test
    void doBodiesAreCodeNotLiterals() {
        assertThat(fp("DO $$ BEGIN RAISE NOTICE 'x'; END $$"))
                .isNotEqualTo(fp("DO $$ BEGIN DELETE FROM t; END $$"));
        assertThat(fp("SELECT 1; DO $$ BEGIN NULL; END $$")).isNotEqualTo(fp("SELECT 1; DO $$ BEGIN NULL ; END $$"));
    }

    @Test
    void hexIs32Digits() {
        assertThat(fp("SELECT 1").hex()).hasSize(32);
    }
}
