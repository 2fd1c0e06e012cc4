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
    void analyzeGivesSessionDetails() {
        Classifier c = new Classifier(TestCatalogs.shop(), ClassifierConfig.defaults());
        var infos = c.analyze("SET search_path TO billing, public; BEGIN READ ONLY; PREPARE p(int) AS SELECT $1;"
                + " EXECUTE p(1); DECLARE cur CURSOR WITH HOLD FOR SELECT 1; FETCH 2 FROM cur; CLOSE ALL;"
                + " LISTEN ch; UNLISTEN *; DISCARD TEMPORARY; SELECT set_config('app.x', 'y', true);"
                + " SET LOCAL statement_timeout = '1s'; RESET ALL; DEALLOCATE ALL; SET pgrelay.route = 'primary';"
                + " SET TIME ZONE 'UTC'", true);
        assertThat(infos).hasSize(16);
        assertThat(infos.get(0).details()).isEqualTo(new StatementInfo.SetDetails("search_path", "billing, public",
                false, false, false));
        assertThat(infos.get(0).text()).isEqualTo("SET search_path TO billing, public");
        assertThat(infos.get(1).details()).isEqualTo(new StatementInfo.BeginDetails(true, null, null, false, false));
        assertThat(((StatementInfo.PrepareDetails) infos.get(2).details()).statement()).isEqualTo("SELECT $1");
        assertThat(infos.get(3).details()).isEqualTo(new StatementInfo.ExecuteDetails("p"));
        assertThat(((StatementInfo.DeclareDetails) infos.get(4).details()).withHold()).isTrue();
        assertThat(infos.get(5).details()).isEqualTo(new StatementInfo.FetchDetails("cur", false));
        assertThat(infos.get(6).details()).isEqualTo(new StatementInfo.CloseDetails(null));
        assertThat(infos.get(7).details()).isEqualTo(new StatementInfo.ListenDetails("ch", true));
        assertThat(infos.get(8).details()).isEqualTo(new StatementInfo.ListenDetails("*", false));
        assertThat(infos.get(9).details()).isEqualTo(new StatementInfo.DiscardDetails("temp"));
        assertThat(infos.get(10).details()).isEqualTo(new StatementInfo.SetConfigDetails("app.x", "y", true, true));
        assertThat(infos.get(11).details()).isEqualTo(new StatementInfo.SetDetails("statement_timeout", "'1s'", true,
                false, false));
        assertThat(infos.get(12).details()).isEqualTo(new StatementInfo.SetDetails(null, null, false, true, true));
        assertThat(infos.get(13).details()).isEqualTo(new StatementInfo.DeallocateDetails(null));
        assertThat(infos.get(14).details()).isEqualTo(new StatementInfo.PgRelaySettingDetails("set", "pgrelay.route",
                "primary"));
        assertThat(infos.get(15).details()).isEqualTo(new StatementInfo.SetDetails("timezone", "'UTC'", false, false,
                false));
        var untracked = c.analyze("SELECT set_config('app.x', $1, false)", true);
        assertThat(untracked.get(0).details()).isEqualTo(new StatementInfo.SetConfigDetails(null, null, false, false));
        var unicode = c.analyze("SELECT 'ä'; SELECT 2", true);
        assertThat(unicode.get(1).start()).isEqualTo(12);
        assertThat(unicode.get(1).text()).isEqualTo("SELECT 2");
    }
}
