package io.pgrelay.core.classify;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class CatalogSnapshotTest {
    @Test
    void hazardsAreComputedTransitively() {
        CatalogSnapshot s = TestCatalogs.shop();
        Map<String, String> h = s.hazards();
        assertThat(h).containsKeys("public.peek_next_invoice()", "public.calls_peek()", "audit.log_event()",
                "public.exec_sql()", "public.set_tenant()", "public.read_cache()", "public.session_cache",
                "public.next_invoice", "public.view_of_view", "public.product_catalog_logged", "public.cache_view",
                "public.locked_orders", "public.metrics", "public.stock_updates", "public.c_volatile()",
                "public.try_log()", "public.maybe_log()", "public.close_paid_orders()");
        assertThat(h).doesNotContainKeys("public.add_tax()", "public.product_price()", "public.random_customer()",
                "public.count_orders()", "public.customers", "public.customer_order_summary", "public.active_customers",
                "public.c_stable()", "public.events", "public.sales_by_day");
        assertThat(h.get("public.peek_next_invoice()")).contains("nextval");
        assertThat(s.isHazardousRelationName("session_cache")).isTrue();
        assertThat(s.isHazardousRelationName("customers")).isFalse();
        assertThat(s.function(null, "nextval").hazard()).isEqualTo(Hazard.WRITE);
        assertThat(s.function("audit", "log_event").hazard()).isEqualTo(Hazard.WRITE);
        assertThat(s.function("public", "log_event")).isNull();
        assertThat(s.relation("pg_catalog", "pg_class")).isNotNull();
        assertThat(s.describe()).contains("corpus");
    }

    @Test
    void contentHashIdentifiesTheContent() {
        assertThat(TestCatalogs.shop().contentHash()).isEqualTo(TestCatalogs.shop().contentHash());
        assertThat(TestCatalogs.shop().contentHash()).isNotEqualTo(TestCatalogs.shop(false).contentHash());
    }

    @Test
    void builtinVolatilityDecisions() {
        BuiltinCatalog b = BuiltinCatalog.get();
        assertThat(b.function(null, "random").hazard()).isEqualTo(Hazard.NONE);
        assertThat(b.function(null, "pg_stat_file").hazard()).isEqualTo(Hazard.NONE);
        assertThat(b.function(null, "pg_import_system_collations").hazard()).isEqualTo(Hazard.WRITE);
        assertThat(b.function(null, "txid_current").hazard()).isEqualTo(Hazard.WRITE);
        assertThat(b.function(null, "suppress_redundant_updates_trigger").hazard()).isEqualTo(Hazard.VOLATILE);
        assertThat(b.function(null, "now").hazard()).isEqualTo(Hazard.NONE);
        assertThat(b.function(null, "count").aggregate()).isTrue();
        assertThat(b.function(null, "generate_series").returnsSet()).isTrue();
        assertThat(b.function(null, "no_such_function")).isNull();
        assertThat(b.relation(null, "pg_stat_activity")).isNotNull();
        assertThat(b.relation(null, "customers")).isNull();
        assertThat(b.operator("@>")).isNull();
        assertThat(b.operator("@+@")).isNotNull();
    }
}
