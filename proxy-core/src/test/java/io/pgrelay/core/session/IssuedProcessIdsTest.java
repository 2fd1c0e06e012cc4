package io.pgrelay.core.session;

import io.pgrelay.core.coordination.IssuedProcessIds;
import io.pgrelay.core.coordination.Membership;
import io.pgrelay.core.coordination.ProxyMember;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The issuing instance's slot in the process ids of BackendKeyData, and who a cancel goes to. */
class IssuedProcessIdsTest {
    private final SplittableRandom random = new SplittableRandom(42);

    @Test
    void everySlotSurvivesTheRoundTripAndIdsStayAboveAnyOsPid() {
        for (int slot = 0; slot < IssuedProcessIds.SLOTS; slot++) {
            for (int i = 0; i < 200; i++) {
                int pid = IssuedProcessIds.draw(slot, random);
                assertThat(pid).isGreaterThanOrEqualTo(1 << 30).isPositive();
                assertThat(IssuedProcessIds.slotOf(pid)).isEqualTo(slot);
            }
        }
    }

    @Test
    void theExtremesOfASlotKeepIt() {
        assertThat(IssuedProcessIds.slotOf(1 << 30)).isEqualTo(0);
        assertThat(IssuedProcessIds.slotOf((1 << 30) | (1 << 22) - 1)).isEqualTo(0);
        assertThat(IssuedProcessIds.slotOf(Integer.MAX_VALUE)).isEqualTo(IssuedProcessIds.SLOTS - 1);
        assertThat(IssuedProcessIds.slotOf((1 << 30) | 7 << 22)).isEqualTo(7);
    }

    @Test
    void unslottedIdsNameNoSlotAndStayAboveAnyOsPid() {
        for (int i = 0; i < 10_000; i++) {
            int pid = IssuedProcessIds.draw(IssuedProcessIds.NO_SLOT, random);
            assertThat(pid).isBetween(1 << 22, (1 << 30) - 1);
            assertThat(IssuedProcessIds.slotOf(pid)).isEqualTo(IssuedProcessIds.NO_SLOT);
        }
        // A server's pid, or a negative one from a confused client: no slot either.
        assertThat(IssuedProcessIds.slotOf(4711)).isEqualTo(IssuedProcessIds.NO_SLOT);
        assertThat(IssuedProcessIds.slotOf(-1)).isEqualTo(IssuedProcessIds.NO_SLOT);
        assertThat(IssuedProcessIds.slotOf(Integer.MIN_VALUE)).isEqualTo(IssuedProcessIds.NO_SLOT);
    }

    @Test
    void aSlotOutOfRangeIsRefused() {
        assertThatThrownBy(() -> IssuedProcessIds.draw(IssuedProcessIds.SLOTS, random))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> IssuedProcessIds.draw(-2, random)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theRegistryIssuesUnderTheSlotHeldAtRegistrationAndPassesOnlyUnknownIdsOn() {
        AtomicInteger slot = new AtomicInteger(IssuedProcessIds.NO_SLOT);
        List<int[]> passedOn = new java.util.ArrayList<>();
        CancelRegistry registry = new CancelRegistry(slot::get, (pid, secret) -> passedOn.add(new int[] {pid, secret}));
        AtomicInteger cancelled = new AtomicInteger();
        CancelRegistry.Cancellable session = new CancelRegistry.Cancellable() {
            @Override
            public void cancelRequested() {
                cancelled.incrementAndGet();
            }

            @Override
            public void terminateRequested() {
            }

            @Override
            public String user() {
                return "app";
            }

            @Override
            public boolean superuser() {
                return false;
            }
        };
        CancelRegistry.Key before = registry.register(session);
        assertThat(IssuedProcessIds.slotOf(before.processId())).isEqualTo(IssuedProcessIds.NO_SLOT);
        slot.set(5);
        CancelRegistry.Key after = registry.register(session);
        assertThat(IssuedProcessIds.slotOf(after.processId())).isEqualTo(5);

        assertThat(registry.cancel(after.processId(), after.secretKey())).isTrue();
        assertThat(cancelled).hasValue(1);
        assertThat(registry.cancel(after.processId(), after.secretKey() + 1)).as("wrong secret").isFalse();
        assertThat(passedOn).as("a key issued here with a wrong secret is not passed on").isEmpty();

        int foreign = IssuedProcessIds.draw(9, random);
        assertThat(registry.cancel(foreign, 1234)).isTrue();
        assertThat(passedOn).singleElement().satisfies(p -> assertThat(p).containsExactly(foreign, 1234));
        assertThat(cancelled).hasValue(1);
    }

    private static ProxyMember member(String id, int port, int slot) {
        return new ProxyMember(id, "0.0.0.0:" + port, "127.0.0.1:1", "v", Instant.EPOCH)
                .advertisedAt("10.0.0.1:" + port).withSlot(slot);
    }

    @Test
    void aCancelGoesToTheOtherLiveInstanceHoldingItsSlot() {
        ProxyMember a = member("a", 6432, 0);
        ProxyMember b = member("b", 6433, 1);
        ProxyMember c = new ProxyMember("c", "127.0.0.1:6434", "127.0.0.1:1", "v", Instant.EPOCH);
        Membership seenByB = new Membership(Membership.Mode.ETCD, "b", List.of(a, b, c));
        assertThat(CancelForwarder.issuer(seenByB, IssuedProcessIds.draw(0, random))).isEqualTo(a);
        assertThat(CancelForwarder.issuer(seenByB, IssuedProcessIds.draw(1, random)))
                .as("our own slot: never forwarded to ourselves").isNull();
        assertThat(CancelForwarder.issuer(seenByB, IssuedProcessIds.draw(2, random))).as("no live holder").isNull();
        assertThat(CancelForwarder.issuer(seenByB, IssuedProcessIds.draw(IssuedProcessIds.NO_SLOT, random)))
                .as("an unslotted key").isNull();
        Membership alone = new Membership(Membership.Mode.STANDALONE, "a", List.of(a));
        assertThat(CancelForwarder.issuer(new Membership(Membership.Mode.STANDALONE, "b", List.of(a, b)),
                IssuedProcessIds.draw(0, random))).as("standalone forwards nothing").isNull();
        assertThat(alone.coordinated()).isFalse();
    }

    @Test
    void theForwardedRequestIsWhatLibpqSends() {
        byte[] request = CancelForwarder.cancelRequest(0x40000001, -2);
        assertThat(request).containsExactly(0, 0, 0, 16, 0x04, (byte) 0xd2, 0x16, 0x2e, 0x40, 0, 0, 1,
                (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xfe);
    }
}
