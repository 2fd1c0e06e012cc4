package io.pgrelay.core.coordination;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Claims the slot an instance's cancel keys name ({@link IssuedProcessIds}): the key
 * {@code <prefix>/slots/<n>} holding the member's id, put under the member's lease by a transaction
 * that succeeds only if the key does not exist ({@code createRevision == 0}). So two live instances
 * never hold one slot, and a dead instance's slot frees itself when its lease expires.
 *
 * <p>A re-registration keeps its slot when it can (the preferred one, or one still holding our id
 * under the old lease: moved to the new lease only while it still holds our id), so the keys issued
 * before go on naming this instance. Blocking: runs on the coordinator's thread.
 */
final class SlotClaim {
    private final KV kv;
    private final String prefix;
    private final Duration timeout;

    /** {@code slotsPrefix}: {@code <prefix>/slots/}. */
    SlotClaim(KV kv, String slotsPrefix, Duration timeout) {
        this.kv = kv;
        this.prefix = slotsPrefix;
        this.timeout = timeout;
    }

    /**
     * Claims a slot for {@code memberId} under {@code lease}, {@code preferred} first
     * ({@link IssuedProcessIds#NO_SLOT}: no preference); returns it, or {@code NO_SLOT} when every
     * slot is held by another live instance.
     */
    int claim(String memberId, long lease, int preferred) throws ExecutionException, TimeoutException,
            InterruptedException {
        Map<Integer, String> held = held();
        for (int slot : candidates(held, memberId, preferred)) {
            String holder = held.get(slot);
            if (holder == null ? createIfAbsent(slot, memberId, lease) : moveIfOurs(slot, memberId, lease)) {
                return slot;
            }
        }
        return IssuedProcessIds.NO_SLOT;
    }

    /**
     * The slots to try, in order: the preferred one unless another holds it, then any still holding our
     * id, then the free ones from the lowest (a free one taken meanwhile fails its transaction and the
     * next is tried).
     */
    static List<Integer> candidates(Map<Integer, String> held, String memberId, int preferred) {
        List<Integer> order = new ArrayList<>();
        if (IssuedProcessIds.isSlot(preferred)
                && (!held.containsKey(preferred) || memberId.equals(held.get(preferred)))) {
            order.add(preferred);
        }
        held.forEach((slot, holder) -> {
            if (holder.equals(memberId) && !order.contains(slot)) {
                order.add(slot);
            }
        });
        for (int slot = 0; slot < IssuedProcessIds.SLOTS; slot++) {
            if (!held.containsKey(slot) && !order.contains(slot)) {
                order.add(slot);
            }
        }
        return order;
    }

    /** Slot number to the id holding it. */
    private Map<Integer, String> held() throws ExecutionException, TimeoutException, InterruptedException {
        Map<Integer, String> held = new HashMap<>();
        List<KeyValue> kvs = kv.get(bytes(prefix), GetOption.builder().isPrefix(true).build())
                .get(timeout.toMillis(), TimeUnit.MILLISECONDS).getKvs();
        for (KeyValue entry : kvs) {
            String key = entry.getKey().toString(StandardCharsets.UTF_8);
            try {
                int slot = Integer.parseInt(key.substring(prefix.length()));
                if (IssuedProcessIds.isSlot(slot)) {
                    held.put(slot, entry.getValue().toString(StandardCharsets.UTF_8));
                }
            } catch (NumberFormatException e) {
                // not a slot key: ignore it, it blocks nothing
            }
        }
        return held;
    }

    private boolean createIfAbsent(int slot, String memberId, long lease) throws ExecutionException,
            TimeoutException, InterruptedException {
        ByteSequence key = key(slot);
        return commit(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.createRevision(0)), key, memberId, lease);
    }

    private boolean moveIfOurs(int slot, String memberId, long lease) throws ExecutionException, TimeoutException,
            InterruptedException {
        ByteSequence key = key(slot);
        return commit(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.value(bytes(memberId))), key, memberId, lease);
    }

    private boolean commit(Cmp condition, ByteSequence key, String memberId, long lease) throws ExecutionException,
            TimeoutException, InterruptedException {
        return kv.txn().If(condition)
                .Then(Op.put(key, bytes(memberId), PutOption.builder().withLeaseId(lease).build()))
                .commit().get(timeout.toMillis(), TimeUnit.MILLISECONDS).isSucceeded();
    }

    private ByteSequence key(int slot) {
        return bytes(prefix + slot);
    }

    private static ByteSequence bytes(String text) {
        return ByteSequence.from(text, StandardCharsets.UTF_8);
    }
}
