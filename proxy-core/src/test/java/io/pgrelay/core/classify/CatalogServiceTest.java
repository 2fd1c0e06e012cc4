package io.pgrelay.core.classify;

import org.junit.jupiter.api.Test;

import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Loading behaviour without a database (the live path is covered by ClassifierCorpusIT). */
class CatalogServiceTest {
    @Test
    void untilLoadedTheBuiltinCatalogAnswersAndLoadsHappenOffTheCaller() throws Exception {
        AtomicInteger attempts = new AtomicInteger();
        try (CatalogService service = new CatalogService(db -> {
            attempts.incrementAndGet();
            assertThat(Thread.currentThread().getName()).isEqualTo("pgrelay-catalog");
            throw new SQLException("primary unreachable");
        }, Duration.ofHours(1))) {
            Classifier classifier = service.classifier("app", ClassifierConfig.defaults());
            assertThat(classifier.catalog()).isSameAs(BuiltinCatalog.get());
            assertThat(classifier.classify("SELECT * FROM customers", true).route()).isEqualTo(Route.PRIMARY);
            service.load("app").get(10, TimeUnit.SECONDS);
            assertThat(attempts.get()).isGreaterThanOrEqualTo(1);
            assertThat(service.version("app")).isZero();
            service.invalidate("app");
            service.load("app").get(10, TimeUnit.SECONDS);
            assertThat(attempts.get()).isGreaterThanOrEqualTo(2);
            assertThat(service.classifier("app", ClassifierConfig.defaults())).isSameAs(classifier);
        }
    }

    @Test
    void blockingLoadReportsFailures() {
        try (CatalogService service = new CatalogService(db -> {
            throw new SQLException("no primary");
        })) {
            assertThatThrownBy(() -> service.loadBlocking("x")).isInstanceOf(SQLException.class)
                    .hasMessageContaining("no primary");
        }
    }
}
