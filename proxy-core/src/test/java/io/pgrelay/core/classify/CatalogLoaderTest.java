package io.pgrelay.core.classify;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class CatalogLoaderTest {
    @Test
    void aViewsHazardQueryCallsItsFunctionsReadsItsRelationsAndLocksAsItDoes() {
        assertThat(CatalogLoader.hazardQuery(new String[0], new String[0], false)).isEqualTo("SELECT 1");
        assertThat(CatalogLoader.hazardQuery(new String[] {"pg_catalog.nextval", "public.\"Touch\""},
                new String[] {"public.accounts", "billing.\"Odd Name\""}, true))
                .isEqualTo("SELECT pg_catalog.nextval(), public.\"Touch\"() FROM public.accounts, billing.\"Odd Name\" FOR UPDATE");
    }

    @Test
    void theHazardQueryOfAViewIsJudgedAsTheViewsOwnQueryWouldBe() {
        Catalog builtin = BuiltinCatalog.get();
        assertThat(StatementAnalyzer.unsafeQueryReason(CatalogLoader.hazardQuery(
                new String[] {"pg_catalog.int4pl", "pg_catalog.upper", "pg_catalog.count"}, new String[0], false), builtin))
                .isNull();
        assertThat(StatementAnalyzer.unsafeQueryReason(CatalogLoader.hazardQuery(
                new String[] {"pg_catalog.nextval"}, new String[0], false), builtin)).isNotNull();
        assertThat(StatementAnalyzer.unsafeQueryReason(CatalogLoader.hazardQuery(
                new String[0], new String[] {"pg_catalog.pg_class"}, true), builtin)).isNotNull();
    }
}
