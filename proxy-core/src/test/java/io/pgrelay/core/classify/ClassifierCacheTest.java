package io.pgrelay.core.classify;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

class ClassifierCacheTest {
    @Test
    void sameShapeHitsTheCache() {
        Classifier c = new Classifier(TestCatalogs.shop(), ClassifierConfig.defaults());
        Classification a = c.classify("SELECT abalance FROM pgbench_accounts WHERE aid = 1", true);
        Classification b = c.classify("SELECT abalance FROM pgbench_accounts WHERE aid = 2", true);
        assertThat(b).isSameAs(a);
        assertThat(c.cacheMisses()).isEqualTo(1);
        assertThat(c.cacheHits()).isEqualTo(1);
    }

    @Test
    void byteBufPathReadsInPlaceHeapAndDirect() {
        Classifier c = new Classifier(TestCatalogs.shop(), ClassifierConfig.defaults());
        byte[] sql = "xxSELECT * FROM customers FOR UPDATEyy".getBytes(StandardCharsets.UTF_8);
        ByteBuf heap = Unpooled.wrappedBuffer(sql);
        ByteBuf direct = Unpooled.directBuffer(sql.length).writeBytes(sql);
        try {
            Classification h = c.classify(heap, 2, sql.length - 4, true);
            Classification d = c.classify(direct, 2, sql.length - 4, true);
            assertThat(h.route()).isEqualTo(Route.PRIMARY);
            assertThat(d).isSameAs(h);
            assertThat(heap.readerIndex()).isZero();
            assertThat(direct.readerIndex()).isZero();
        } finally {
            heap.release();
            direct.release();
        }
    }

    @Test
    void cacheIsBoundedAndStillCorrect() {
        Classifier c = new Classifier(TestCatalogs.shop(), ClassifierConfig.defaults().withCacheSize(8));
        for (int i = 0; i < 200; i++) {
            assertThat(c.classify("SELECT c" + i + " FROM customers", true).route()).isEqualTo(Route.REPLICA);
            assertThat(c.classify("SELECT c" + i + " FROM session_cache", true).route()).isEqualTo(Route.PRIMARY);
        }
        assertThat(c.cacheMisses()).isEqualTo(400);
    }

    @Test
    void catalogChangeDropsTheCache() {
        AtomicReference<Catalog> catalog = new AtomicReference<>(BuiltinCatalog.get());
        Classifier c = new Classifier(catalog::get, ClassifierConfig.defaults());
        assertThat(c.classify("SELECT * FROM customers", true).route()).isEqualTo(Route.PRIMARY);
        assertThat(c.classify("SELECT * FROM customers", true).route()).isEqualTo(Route.PRIMARY);
        assertThat(c.cacheHits()).isEqualTo(1);
        catalog.set(TestCatalogs.shop());
        assertThat(c.classify("SELECT * FROM customers", true).route()).isEqualTo(Route.REPLICA);
        assertThat(c.cacheMisses()).isEqualTo(2);
    }

    @Test
    void modeAndHintAreSeparateCacheEntries() {
        Classifier c = new Classifier(TestCatalogs.shop(), ClassifierConfig.defaults());
        String trap = "SELECT '\\'; UPDATE customers SET name = name; --'";
        assertThat(c.classify(trap, true).route()).isEqualTo(Route.PRIMARY);
        assertThat(c.classify(trap, false).route()).isEqualTo(Route.REPLICA);
        assertThat(c.classify("/* pgrelay:primary */ SELECT 1", true).route()).isEqualTo(Route.PRIMARY);
        assertThat(c.classify("SELECT 1", true).route()).isEqualTo(Route.REPLICA);
    }

    @Test
    void cachedEffectsTakeTheirValuesFromTheTextAtHand() {
        Classifier c = new Classifier(TestCatalogs.shop(), ClassifierConfig.defaults());
        String template = "SET search_path TO billing, public; SET statement_timeout = '%s';"
                + " SELECT set_config('app.%s', '%s', false); PREPARE p(int) AS SELECT $1 + %s;"
                + " SET pgrelay.min_lsn = '%s'; BEGIN READ ONLY; COMMIT";
        Classification first = c.classify(String.format(template, "1s", "x", "one", "1", "0/10"), true);
        Classification second = c.classify(String.format(template, "2min", "y", "two''s", "42", "0/20"), true);
        assertThat(c.cacheMisses()).isEqualTo(1);
        assertThat(c.cacheHits()).isEqualTo(1);
        SessionEffect.Scope session = SessionEffect.Scope.SESSION;
        assertThat(second.statements().get(0).effects()).containsExactly(new SessionEffect.SetSetting("search_path",
                session, "SET search_path TO billing, public"));
        assertThat(second.statements().get(1).effects()).containsExactly(new SessionEffect.SetSetting(
                "statement_timeout", session, "SET statement_timeout = '2min'"));
        assertThat(first.statements().get(2).effects()).containsExactly(new SessionEffect.SetSetting("app.x",
                session, "SELECT pg_catalog.set_config(E'app.x', E'one', false)"));
        assertThat(second.statements().get(2).effects()).containsExactly(new SessionEffect.SetSetting("app.y",
                session, "SELECT pg_catalog.set_config(E'app.y', E'two''s', false)"));
        SessionEffect.Prepare prepare = (SessionEffect.Prepare) second.statements().get(3).effects().get(0);
        assertThat(prepare.replaySql()).isEqualTo("PREPARE p(int) AS SELECT $1 + 42");
        assertThat(second.statements().get(4).effects()).containsExactly(
                new SessionEffect.ProxySetting(SessionEffect.ProxySettingOp.SET, "pgrelay.min_lsn", "0/20"));
        assertThat(second.statements().get(6).effects()).containsExactly(
                new SessionEffect.EndTransaction(SessionEffect.Ending.COMMIT, false));
        Classification parameter = c.classify("SET search_path TO billing, public; SET statement_timeout = '1s';"
                + " SELECT set_config('app.x', $1, false); PREPARE p(int) AS SELECT $1 + 1;"
                + " SET pgrelay.min_lsn = '0/10'; BEGIN READ ONLY; COMMIT", true);
        assertThat(c.cacheHits()).as("a parameter has a literal's fingerprint").isEqualTo(2);
        assertThat(parameter.statements().get(2).effects())
                .containsExactly(new SessionEffect.UntrackedSetting("set_config() with computed arguments"));
    }

    @Test
    void literalFreeStatementsAreServedWithoutCopying() {
        Classifier c = new Classifier(TestCatalogs.shop(), ClassifierConfig.defaults());
        Classification begin = c.classify("BEGIN", true);
        assertThat(c.classify("begin", true)).isSameAs(begin);
        Classification select = c.classify("SELECT * FROM customers WHERE id = 1", true);
        assertThat(c.classify("SELECT * FROM customers WHERE id = 2", true)).isSameAs(select);
    }
}
