package io.pgrelay.core.session;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ProxySettingsTest {
    private final CausalState causal = new CausalState(Consistency.EVENTUAL);
    private final ProxySettings settings = new ProxySettings(Consistency.EVENTUAL, causal, () -> 1);

    @Test
    void consistencyIsSetShownAndReset() {
        assertThat(settings.set("pgrelay.consistency", " Global ")).isNull();
        assertThat(settings.show("pgrelay.consistency")).isEqualTo("global");
        assertThat(causal.mode()).isEqualTo(Consistency.GLOBAL);
        assertThat(causal.causal()).as("a global session learns its writes' positions too").isTrue();
        assertThat(settings.set("pgrelay.consistency", null)).isNull();
        assertThat(settings.show("pgrelay.consistency")).isEqualTo("eventual");
    }

    @Test
    void anUnknownModeIsRefusedAndChangesNothing() {
        settings.set("pgrelay.consistency", "causal");
        var error = settings.set("pgrelay.consistency", "strong");
        assertThat(error).isNotNull();
        assertThat(error.sqlState()).isEqualTo("22023");
        assertThat(error.message()).contains("causal | eventual | global");
        assertThat(settings.show("pgrelay.consistency")).isEqualTo("causal");
    }
}
