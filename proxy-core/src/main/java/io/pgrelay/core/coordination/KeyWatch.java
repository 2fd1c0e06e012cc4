package io.pgrelay.core.coordination;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A key, or every key under a prefix, followed in memory: read once, then watched from the
 * revision of that read, so no change between the two is missed. A watch that ends (its revision
 * was compacted, or etcd cancelled it) or a read that fails is replaced by a fresh read and watch
 * after a delay. A generation counter tells the current watch from replaced ones: closing a
 * replaced watch ends it too, and neither its events nor its end may count. Reads run on the
 * coordinator's thread; events arrive on jetcd's executor.
 */
final class KeyWatch {
    private static final Logger log = LoggerFactory.getLogger(KeyWatch.class);

    /** What the watch delivers. */
    interface Listener {
        /** A read's key-values (none when nothing is there): they replace whatever was known. */
        void read(List<KeyValue> kvs, long revision);

        void put(KeyValue kv);

        void deleted(KeyValue kv);

        /** After each batch of events (one watch response). */
        default void batchDone() {
        }
    }

    private final Client client;
    private final ByteSequence key;
    private final String keyText;
    private final boolean prefix;
    private final ScheduledExecutorService thread;
    private final Duration callTimeout;
    private final Duration resyncDelay;
    private final Listener listener;
    private volatile long generation;
    private volatile boolean closed;
    private Watch.Watcher watcher;

    KeyWatch(Client client, String key, boolean prefix, ScheduledExecutorService thread, Duration callTimeout,
             Duration resyncDelay, Listener listener) {
        this.client = client;
        this.key = MemberWatch.bytes(key);
        this.keyText = prefix ? key + "*" : key;
        this.prefix = prefix;
        this.thread = thread;
        this.callTimeout = callTimeout;
        this.resyncDelay = resyncDelay;
        this.listener = listener;
    }

    /** Reads and watches from there on; on the coordinator's thread. Retried until closed. */
    void start() {
        if (closed) {
            return;
        }
        long of = ++generation;
        if (watcher != null) {
            watcher.close();
            watcher = null;
        }
        try {
            GetResponse response = client.getKVClient().get(key, GetOption.builder().isPrefix(prefix).build())
                    .get(callTimeout.toMillis(), TimeUnit.MILLISECONDS);
            long revision = response.getHeader().getRevision();
            listener.read(response.getKvs(), revision);
            watcher = client.getWatchClient().watch(key,
                    WatchOption.builder().isPrefix(prefix).withRevision(revision + 1).build(),
                    Watch.listener(events -> onEvents(of, events), error -> onEnd(of, EtcdErrors.describe(error)),
                            () -> onEnd(of, "ended")));
        } catch (ExecutionException | TimeoutException e) {
            log.warn("coordination: cannot read {} ({}); retrying in {} ms", keyText, EtcdErrors.describe(e),
                    resyncDelay.toMillis());
            resyncLater();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void onEvents(long of, WatchResponse response) {
        if (of != generation) {
            return; // a replaced watch: the read that replaced it already holds these changes
        }
        for (WatchEvent event : response.getEvents()) {
            switch (event.getEventType()) {
                case PUT -> listener.put(event.getKeyValue());
                case DELETE -> listener.deleted(event.getKeyValue());
                default -> log.debug("coordination: ignored watch event {} on {}", event.getEventType(), keyText);
            }
        }
        listener.batchDone();
    }

    private void onEnd(long of, String why) {
        if (!closed && of == generation) {
            log.warn("coordination: the watch of {} {}; reading it again in {} ms", keyText, why,
                    resyncDelay.toMillis());
            resyncLater();
        }
    }

    private void resyncLater() {
        if (!closed) {
            thread.schedule(this::start, resyncDelay.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** Stops watching; on the coordinator's thread. */
    void close() {
        closed = true;
        generation++;
        if (watcher != null) {
            watcher.close();
            watcher = null;
        }
    }
}
