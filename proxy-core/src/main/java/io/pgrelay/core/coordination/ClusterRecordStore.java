package io.pgrelay.core.coordination;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.PutOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * {@code <prefix>/cluster} in memory, followed by a {@link KeyWatch}. Writes
 * are compare-and-swap on the key's mod revision, and also on the leader key still naming the
 * writer, so a leader that lost its lease (and with it the leader key) cannot overwrite the record
 * its successor wrote. Blocking calls run on the coordinator's thread.
 */
final class ClusterRecordStore implements KeyWatch.Listener {
    private static final Logger log = LoggerFactory.getLogger(ClusterRecordStore.class);

    /** The record as last read, with the key's mod revision (0 = the key does not exist). */
    record Versioned(ClusterRecord record, long modRevision) {
    }

    private final Client client;
    private final ByteSequence key;
    private final String keyText;
    private final ByteSequence leaderKey;
    private final ByteSequence selfId;
    private final Duration callTimeout;
    private final Consumer<ClusterRecord> onRecord;
    /** null until the first read answered. */
    private volatile Versioned current;
    private final KeyWatch watch;

    ClusterRecordStore(Client client, String key, String leaderKey, String selfId, ScheduledExecutorService thread,
                       Duration callTimeout, Consumer<ClusterRecord> onRecord) {
        this.client = client;
        this.keyText = key;
        this.key = MemberWatch.bytes(key);
        this.leaderKey = MemberWatch.bytes(leaderKey);
        this.selfId = MemberWatch.bytes(selfId);
        this.callTimeout = callTimeout;
        this.onRecord = onRecord;
        this.watch = new KeyWatch(client, key, false, thread, callTimeout, Duration.ofSeconds(1), this);
    }

    /** The record as last seen; null before the first read. */
    Versioned current() {
        return current;
    }

    /** Reads the record and watches it; on the coordinator's thread; retried until closed. */
    void start() {
        watch.start();
    }

    @Override
    public void read(List<KeyValue> kvs, long revision) {
        if (kvs.isEmpty()) {
            current = new Versioned(null, 0);
        } else {
            seen(kvs.get(0));
        }
    }

    @Override
    public void put(KeyValue kv) {
        seen(kv);
    }

    @Override
    public void deleted(KeyValue kv) {
        log.warn("coordination: {} was deleted; the leader writes it again from its view", keyText);
        current = new Versioned(null, 0);
    }

    private void seen(KeyValue kv) {
        ClusterRecord record;
        try {
            record = ClusterRecordCodec.decode(kv.getValue().getBytes());
        } catch (IllegalArgumentException e) {
            log.error("coordination: ignoring {}: {}", keyText, e.getMessage());
            return;
        }
        Versioned before = current;
        if (before != null && before.record() != null && before.modRevision() >= kv.getModRevision()) {
            return; // old news (a watch replayed what the read returned)
        }
        // Applied first: this instance acknowledges an epoch (its health report) only once it routes by it.
        onRecord.accept(record);
        current = new Versioned(record, kv.getModRevision());
    }

    /**
     * Reads the record afresh (a quorum read) and applies it, whatever the watch delivered; on the
     * coordinator's thread. Returns whether it got an answer.
     */
    boolean refresh() throws InterruptedException {
        try {
            GetResponse response = client.getKVClient().get(key).get(callTimeout.toMillis(), TimeUnit.MILLISECONDS);
            if (response.getKvs().isEmpty()) {
                current = new Versioned(null, 0);
                return true;
            }
            KeyValue kv = response.getKvs().get(0);
            ClusterRecord record = ClusterRecordCodec.decode(kv.getValue().getBytes());
            Versioned before = current;
            if (before == null || before.modRevision() <= kv.getModRevision()) {
                onRecord.accept(record);
                current = new Versioned(record, kv.getModRevision());
            } else {
                onRecord.accept(before.record());
            }
            return true;
        } catch (ExecutionException | TimeoutException e) {
            log.warn("coordination: cannot read {} ({})", keyText, EtcdErrors.describe(e));
            return false;
        } catch (IllegalArgumentException e) {
            log.error("coordination: {} holds no cluster record: {}", keyText, e.getMessage());
            return false;
        }
    }

    /**
     * Writes {@code next} if the key is still at {@code expected} (mod revision; 0 = absent) and the
     * leader key still names this instance; on the coordinator's thread. Returns whether it was written.
     */
    boolean compareAndPut(ClusterRecord next, long expected) throws InterruptedException {
        Cmp onRecord = expected == 0 ? new Cmp(key, Cmp.Op.EQUAL, CmpTarget.createRevision(0))
                : new Cmp(key, Cmp.Op.EQUAL, CmpTarget.modRevision(expected));
        try {
            boolean written = client.getKVClient().txn()
                    .If(onRecord, new Cmp(leaderKey, Cmp.Op.EQUAL, CmpTarget.value(selfId)))
                    .Then(Op.put(key, ByteSequence.from(ClusterRecordCodec.encode(next)), PutOption.DEFAULT))
                    .commit().get(callTimeout.toMillis(), TimeUnit.MILLISECONDS).isSucceeded();
            if (!written) {
                log.info("coordination: {} changed under us or we no longer lead; not writing epoch {}", keyText,
                        next.epoch());
            }
            return written;
        } catch (ExecutionException | TimeoutException e) {
            log.warn("coordination: cannot write {} epoch {} ({})", keyText, next.epoch(), EtcdErrors.describe(e));
            return false;
        }
    }

    void close() {
        watch.close();
    }
}
