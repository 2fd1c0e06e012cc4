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

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongConsumer;

/**
 * The live members in memory: every key under {@code <prefix>/members/}, read once and then followed
 * by a watch from the revision of that read, so no change between the two is missed. A watch that
 * ends (the revision was compacted, or etcd cancelled it) is replaced by a fresh read and watch.
 * Blocking calls run on the coordinator's thread; watch events arrive on jetcd's executor.
 */
final class MemberWatch {
    private static final Logger log = LoggerFactory.getLogger(MemberWatch.class);
    private static final Duration RESYNC_DELAY = Duration.ofSeconds(1);

    private final Client client;
    private final ByteSequence prefix;
    private final String prefixText;
    private final ScheduledExecutorService thread;
    private final Duration callTimeout;
    private final String selfKey;
    /** Called (on jetcd's executor) with the revision of a deletion of {@code selfKey}: our registration went away. */
    private final LongConsumer selfDeleted;
    private final Map<String, ProxyMember> members = new ConcurrentHashMap<>();
    private volatile List<ProxyMember> sorted = List.of();
    private Watch.Watcher watcher;
    /** Which watch is current: closing a replaced one ends it too, and its end must not start another. */
    private volatile long generation;
    private volatile boolean closed;

    MemberWatch(Client client, String membersPrefix, String selfKey, ScheduledExecutorService thread,
                Duration callTimeout, LongConsumer selfDeleted) {
        this.client = client;
        this.prefixText = membersPrefix;
        this.prefix = bytes(membersPrefix);
        this.selfKey = selfKey;
        this.thread = thread;
        this.callTimeout = callTimeout;
        this.selfDeleted = selfDeleted;
    }

    /** The members as last seen, ordered by id. */
    List<ProxyMember> members() {
        return sorted;
    }

    /** Reads the members and watches them from there on; on the coordinator's thread. Retries until closed. */
    void start() {
        if (closed) {
            return;
        }
        long current = ++generation;
        if (watcher != null) {
            watcher.close();
            watcher = null;
        }
        try {
            GetResponse response = client.getKVClient().get(prefix, GetOption.builder().isPrefix(true).build())
                    .get(callTimeout.toMillis(), TimeUnit.MILLISECONDS);
            members.clear();
            for (KeyValue kv : response.getKvs()) {
                put(kv);
            }
            publish();
            long revision = response.getHeader().getRevision();
            watcher = client.getWatchClient().watch(prefix,
                    WatchOption.builder().isPrefix(true).withRevision(revision + 1).build(),
                    Watch.listener(events -> onEvents(current, events), error -> onError(current, error),
                            () -> onCompleted(current)));
            log.info("coordination: {} live pgrelay instance(s) under {} at revision {}", sorted.size(), prefixText,
                    revision);
        } catch (ExecutionException | TimeoutException e) {
            log.warn("coordination: cannot read the members under {} ({}); retrying in {} ms", prefixText,
                    EtcdErrors.describe(e), RESYNC_DELAY.toMillis());
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
            KeyValue kv = event.getKeyValue();
            switch (event.getEventType()) {
                case PUT -> put(kv);
                case DELETE -> {
                    String key = kv.getKey().toString(StandardCharsets.UTF_8);
                    members.remove(idOf(key));
                    if (key.equals(selfKey)) {
                        selfDeleted.accept(kv.getModRevision());
                    }
                }
                default -> log.debug("coordination: ignored watch event {}", event.getEventType());
            }
        }
        publish();
    }

    private void onError(long of, Throwable error) {
        if (!closed && of == generation) {
            log.warn("coordination: the watch of {} failed ({}); reading the members again", prefixText,
                    EtcdErrors.describe(error));
            resyncLater();
        }
    }

    private void onCompleted(long of) {
        if (!closed && of == generation) {
            log.warn("coordination: the watch of {} ended; reading the members again", prefixText);
            resyncLater();
        }
    }

    private void resyncLater() {
        if (!closed) {
            thread.schedule(this::start, RESYNC_DELAY.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private void put(KeyValue kv) {
        String key = kv.getKey().toString(StandardCharsets.UTF_8);
        try {
            ProxyMember member = MemberCodec.decode(kv.getValue().getBytes());
            members.put(idOf(key), member);
        } catch (IllegalArgumentException e) {
            log.warn("coordination: ignoring {}: {}", key, e.getMessage());
        }
    }

    private String idOf(String key) {
        return key.substring(prefixText.length());
    }

    private void publish() {
        List<ProxyMember> list = new ArrayList<>(members.values());
        list.sort(Comparator.comparing(ProxyMember::id));
        sorted = List.copyOf(list);
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

    static ByteSequence bytes(String text) {
        return ByteSequence.from(text, StandardCharsets.UTF_8);
    }
}
