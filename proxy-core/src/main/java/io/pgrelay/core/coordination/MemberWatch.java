package io.pgrelay.core.coordination;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.LongConsumer;

/**
 * The live members in memory: every key under {@code <prefix>/members/}, followed by a
 * {@link KeyWatch}. Tells the coordinator when its own registration was deleted.
 */
final class MemberWatch implements KeyWatch.Listener {
    private static final Logger log = LoggerFactory.getLogger(MemberWatch.class);
    private static final Duration RESYNC_DELAY = Duration.ofSeconds(1);

    private final String prefixText;
    private final String selfKey;
    /** Called (on jetcd's executor) with the revision of a deletion of {@code selfKey}: our registration went away. */
    private final LongConsumer selfDeleted;
    private final Map<String, ProxyMember> members = new ConcurrentHashMap<>();
    private final KeyWatch watch;
    private volatile List<ProxyMember> sorted = List.of();

    MemberWatch(Client client, String membersPrefix, String selfKey, ScheduledExecutorService thread,
                Duration callTimeout, LongConsumer selfDeleted) {
        this.prefixText = membersPrefix;
        this.selfKey = selfKey;
        this.selfDeleted = selfDeleted;
        this.watch = new KeyWatch(client, membersPrefix, true, thread, callTimeout, RESYNC_DELAY, this);
    }

    /** The members as last seen, ordered by id. */
    List<ProxyMember> members() {
        return sorted;
    }

    /** Reads the members and watches them from there on; on the coordinator's thread. Retries until closed. */
    void start() {
        watch.start();
    }

    @Override
    public void read(List<KeyValue> kvs, long revision) {
        members.clear();
        kvs.forEach(this::put);
        batchDone();
        log.info("coordination: {} live pgrelay instance(s) under {} at revision {}", sorted.size(), prefixText,
                revision);
    }

    @Override
    public void put(KeyValue kv) {
        String key = kv.getKey().toString(StandardCharsets.UTF_8);
        try {
            ProxyMember member = MemberCodec.decode(kv.getValue().getBytes());
            members.put(idOf(key), member);
        } catch (IllegalArgumentException e) {
            log.warn("coordination: ignoring {}: {}", key, e.getMessage());
        }
    }

    @Override
    public void deleted(KeyValue kv) {
        String key = kv.getKey().toString(StandardCharsets.UTF_8);
        members.remove(idOf(key));
        if (key.equals(selfKey)) {
            selfDeleted.accept(kv.getModRevision());
        }
    }

    @Override
    public void batchDone() {
        List<ProxyMember> list = new ArrayList<>(members.values());
        list.sort(Comparator.comparing(ProxyMember::id));
        sorted = List.copyOf(list);
    }

    private String idOf(String key) {
        return key.substring(prefixText.length());
    }

    /** Stops watching; on the coordinator's thread. */
    void close() {
        watch.close();
    }

    static ByteSequence bytes(String text) {
        return ByteSequence.from(text, StandardCharsets.UTF_8);
    }
}
