package io.pgrelay.core.coordination;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;

/**
 * The leader key {@code <prefix>/leader}: whoever creates it (a transaction that puts it only while
 * its create revision is 0, that is while it does not exist) leads, under its member lease, so the
 * key vanishes when the leader dies, freezes or loses etcd for a TTL. Every instance watches the
 * key from the revision of its own attempt, so no change is missed; on a deletion each contends
 * again and etcd lets exactly one win. Blocking calls run on the coordinator's thread.
 */
final class LeaderElection {
    private static final Logger log = LoggerFactory.getLogger(LeaderElection.class);
    private static final Duration RETRY = Duration.ofMillis(500);

    private final Client client;
    private final ByteSequence key;
    private final String keyText;
    private final String selfId;
    private final ScheduledExecutorService thread;
    private final Duration callTimeout;
    /** The lease this instance is registered under now; 0 while it is not. */
    private final LongSupplier lease;
    private volatile String leaderId;
    private volatile boolean closed;
    private volatile long generation;
    // Only touched on the coordinator's thread:
    private Watch.Watcher watcher;
    private boolean retryScheduled;

    LeaderElection(Client client, String leaderKey, String selfId, ScheduledExecutorService thread,
                   Duration callTimeout, LongSupplier lease) {
        this.client = client;
        this.keyText = leaderKey;
        this.key = MemberWatch.bytes(leaderKey);
        this.selfId = selfId;
        this.thread = thread;
        this.callTimeout = callTimeout;
        this.lease = lease;
    }

    /** The id the leader key holds as last seen; null while it does not exist. */
    String leaderId() {
        return leaderId;
    }

    /**
     * Takes the key if nobody holds it, else reads who does; then watches it (once). On the
     * coordinator's thread; retried until it gets an answer, as long as this instance holds a lease.
     */
    void contend() {
        long current = lease.getAsLong();
        if (closed || current == 0) {
            return; // the next registration contends
        }
        try {
            TxnResponse response = client.getKVClient().txn()
                    .If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.createRevision(0)))
                    .Then(Op.put(key, MemberWatch.bytes(selfId), PutOption.builder().withLeaseId(current).build()))
                    .Else(Op.get(key, GetOption.DEFAULT))
                    .commit().get(callTimeout.toMillis(), TimeUnit.MILLISECONDS);
            long revision = response.getHeader().getRevision();
            if (response.isSucceeded()) {
                seen(selfId, revision);
            } else {
                List<KeyValue> kvs = response.getGetResponses().get(0).getKvs();
                seen(kvs.isEmpty() ? null : kvs.get(0).getValue().toString(StandardCharsets.UTF_8), revision);
            }
            if (watcher == null) {
                watch(revision + 1);
            }
        } catch (ExecutionException | TimeoutException e) {
            log.warn("coordination: cannot contend for {} ({}); retrying in {} ms", keyText, EtcdErrors.describe(e),
                    RETRY.toMillis());
            retryLater();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void watch(long fromRevision) {
        long of = ++generation;
        watcher = client.getWatchClient().watch(key, WatchOption.builder().withRevision(fromRevision).build(),
                Watch.listener(events -> onEvents(of, events), error -> onEnd(of, EtcdErrors.describe(error)),
                        () -> onEnd(of, "ended")));
    }

    private void onEvents(long of, WatchResponse response) {
        if (of != generation) {
            return;
        }
        for (WatchEvent event : response.getEvents()) {
            KeyValue kv = event.getKeyValue();
            if (event.getEventType() == WatchEvent.EventType.PUT) {
                seen(kv.getValue().toString(StandardCharsets.UTF_8), kv.getModRevision());
            } else if (event.getEventType() == WatchEvent.EventType.DELETE) {
                seen(null, kv.getModRevision());
                thread.execute(this::contend);
            }
        }
    }

    /** The watch failed (e.g. its revision was compacted): contend and watch afresh. */
    private void onEnd(long of, String why) {
        if (closed || of != generation) {
            return;
        }
        log.warn("coordination: the watch of {} {}; reading it again", keyText, why);
        thread.execute(() -> {
            if (watcher != null) {
                watcher.close();
                watcher = null;
            }
            contend();
        });
    }

    private void seen(String id, long revision) {
        String before = leaderId;
        leaderId = id;
        if (!Objects.equals(before, id)) {
            if (id == null) {
                log.info("coordination: no leader ({} deleted at revision {})", keyText, revision);
            } else {
                log.info("coordination: the leader is {}{} (revision {})", id, id.equals(selfId) ? " (this instance)"
                        : "", revision);
            }
        }
    }

    private void retryLater() {
        if (!closed && !retryScheduled) {
            retryScheduled = true;
            thread.schedule(() -> {
                retryScheduled = false;
                contend();
            }, RETRY.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** Stops watching; on the coordinator's thread. The key goes with the lease (revoked by the caller). */
    void close() {
        closed = true;
        generation++;
        if (watcher != null) {
            watcher.close();
            watcher = null;
        }
    }
}
