package io.pgrelay.core.coordination;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Which slots an instance tries to claim, and its member record carrying one. */
class SlotClaimTest {

    @Test
    void aFreshInstanceTriesTheLowestFreeSlotsInOrder() {
        assertThat(SlotClaim.candidates(Map.of(0, "a", 2, "b"), "c", IssuedProcessIds.NO_SLOT))
                .startsWith(1, 3, 4).doesNotContain(0, 2).hasSize(IssuedProcessIds.SLOTS - 2);
    }

    @Test
    void aReRegistrationTriesItsFormerSlotFirst() {
        assertThat(SlotClaim.candidates(Map.of(0, "a"), "c", 7)).startsWith(7, 1, 2);
        // Still ours under the old lease: moved to the new one.
        assertThat(SlotClaim.candidates(Map.of(0, "a", 7, "c"), "c", 7)).startsWith(7, 1);
    }

    @Test
    void aFormerSlotAnotherNowHoldsIsNotTried() {
        assertThat(SlotClaim.candidates(Map.of(7, "a"), "c", 7)).startsWith(0, 1).doesNotContain(7);
    }

    @Test
    void aSlotStillHoldingOurIdComesBeforeFreeOnes() {
        assertThat(SlotClaim.candidates(Map.of(0, "a", 4, "c"), "c", IssuedProcessIds.NO_SLOT)).startsWith(4, 1, 2);
    }

    @Test
    void noSlotLeftMeansNoCandidate() {
        Map<Integer, String> all = new java.util.HashMap<>();
        for (int slot = 0; slot < IssuedProcessIds.SLOTS; slot++) {
            all.put(slot, "other-" + slot);
        }
        assertThat(SlotClaim.candidates(all, "c", 3)).isEmpty();
    }

    @Test
    void theMemberRecordCarriesTheSlotAndTheAdvertisedAddress() {
        ProxyMember member = new ProxyMember("h-1", "0.0.0.0:6432", "0.0.0.0:6480", "1.0", Instant.parse(
                "2026-01-01T00:00:00Z")).advertisedAt("10.1.2.3:6432").withSlot(17);
        assertThat(MemberCodec.decode(MemberCodec.encode(member))).isEqualTo(member);
        ProxyMember slotless = member.withSlot(IssuedProcessIds.NO_SLOT);
        assertThat(new String(MemberCodec.encode(slotless), java.nio.charset.StandardCharsets.UTF_8))
                .doesNotContain("slot");
        assertThat(MemberCodec.decode(MemberCodec.encode(slotless))).isEqualTo(slotless);
    }

    @Test
    void aRecordWithoutTheNewFieldsIsAdvertisedAtItsAddressWithoutASlot() {
        ProxyMember read = MemberCodec.decode(("{\"id\":\"h-1\",\"address\":\"127.0.0.1:6432\",\"admin\":\"127.0.0.1:6480\","
                + "\"version\":\"1\",\"startedAt\":\"2026-01-01T00:00:00Z\"}").getBytes(
                java.nio.charset.StandardCharsets.UTF_8));
        assertThat(read.advertised()).isEqualTo("127.0.0.1:6432");
        assertThat(read.hasSlot()).isFalse();
        assertThat(MemberCodec.decode(("{\"id\":\"h-1\",\"address\":\"a:1\",\"admin\":\"a:2\",\"version\":\"1\","
                + "\"startedAt\":\"2026-01-01T00:00:00Z\",\"slot\":999}").getBytes(
                java.nio.charset.StandardCharsets.UTF_8)).hasSlot()).as("a slot out of range is none").isFalse();
    }

    @Test
    void aWildcardListenHostIsNotAdvertised() {
        assertThat(AdvertisedHost.of(null, "127.0.0.1")).isEqualTo("127.0.0.1");
        assertThat(AdvertisedHost.of(null, "db-proxy-1")).isEqualTo("db-proxy-1");
        assertThat(AdvertisedHost.of("proxy.example", "0.0.0.0")).isEqualTo("proxy.example");
        assertThat(AdvertisedHost.of(null, "0.0.0.0")).isNotEqualTo("0.0.0.0").isNotBlank();
        assertThat(AdvertisedHost.of(null, "::")).isNotEqualTo("::").isNotBlank();
        assertThat(AdvertisedHost.isWildcard("[::]")).isTrue();
        assertThat(AdvertisedHost.isWildcard("10.0.0.1")).isFalse();
    }

    @Test
    void anAdminListenerIsReachableWhereItIsBound() {
        assertThat(AdvertisedHost.reachable("proxy.example", "127.0.0.1"))
                .as("a specific address answers only there").isEqualTo("127.0.0.1");
        assertThat(AdvertisedHost.reachable("proxy.example", "0.0.0.0")).isEqualTo("proxy.example");
        assertThat(AdvertisedHost.reachable(null, "0.0.0.0")).isNotEqualTo("0.0.0.0").isNotBlank();
    }
}
