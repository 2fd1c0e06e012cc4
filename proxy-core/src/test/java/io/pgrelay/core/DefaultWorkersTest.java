package io.pgrelay.core;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

class DefaultWorkersTest {
    @ParameterizedTest(name = "{0} cores -> {1} loops")
    @CsvSource({"1, 1", "2, 1", "3, 1", "4, 2", "16, 8"})
    void halfTheCoresAtLeastOne(int cores, int loops) {
        assertThat(ProxyServer.defaultWorkers(cores)).isEqualTo(loops);
    }
}
