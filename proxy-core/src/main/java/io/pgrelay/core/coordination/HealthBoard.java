package io.pgrelay.core.coordination;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The instances' health reports under {@code <prefix>/health/}: this instance publishes its own
 * (under its lease, so it vanishes with the instance) whenever it changes or the lease does, and
 * reads everyone's (read once, then watched from that revision). Blocking calls run on the
 * coordinator's thread.
 */
final class HealthBoard {
    private static final Logger log = LoggerFactory.getLogger(HealthBoard.class);
    private static final Duration PERIODIC = Duration.ofMillis(500);

    private final Client client;
    private final String prefix;
    private final ByteSequence prefixBytes;
    private final String selfKey;
    private final ScheduledExecutorService thread;
    private final Duration callTimeout;
    private final LongSupplier lease;
    private final Supplier<HealthReport> mine;
    private final Map<String, HealthReport> reports = new ConcurrentHashMap<>();
    private final AtomicBoolean publishPending = new AtomicBoolean();
    private volatile long generation;
    private volatile boolean closed;
    private Watch.Watcher watcher;
    private HealthReport published;
    private long publishedLease;

    HealthBoard(Client client, String prefix, String selfId, ScheduledExecutorService thread, Duration callTimeout,
                LongSupplier lease, Supplier<HealthReport> mine) {
        this.client = client;
        this.prefix = prefix;
        this.prefixBytes = MemberWatch.bytes(prefix);
        this.selfKey = prefix + selfId;
        this.thread = thread;
        this.callTimeout = callTimeout;
        this.lease = lease;
        this.mine = mine;
    }

    /** Every live instance's last report, by member id. */
    Map<String, HealthReport> reports() {
        return Map.copyOf(reports);
    }

    void start() {
        read();
        thread.scheduleWithFixedDelay(this::publish, PERIODIC.toMillis(), PERIODIC.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Publish soon (coalesced): something this instance reports may have changed. */
    void requestPublish() {
        if (publishPending.compareAndSet(false, true)) {
            thread.execute(() -> {
                publishPending.set(false);
                publish();
            });
        }
    }

    private void publish() {
        long current = lease.getAsLong();
        HealthReport report = mine.get();
        if (closed || current == 0 || report.equals(published) && current == publishedLease) {
            return;
        }
        try {
            client.getKVClient().put(MemberWatch.bytes(selfKey), ByteSequence.from(report.encode()),
                    PutOption.builder().withLeaseId(current).build()).get(callTimeout.toMillis(), TimeUnit.MILLISECONDS);
            published = report;
            publishedLease = current;
        } catch (ExecutionException | TimeoutException e) {
            log.debug("coordination: cannot publish {} ({})", selfKey, EtcdErrors.describe(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void read() {
        if (closed) {
            return;
        }
        long of = ++generation;
        if (watcher != null) {
            watcher.close();
            watcher = null;
        }
        try {
            GetResponse response = client.getKVClient().get(prefixBytes, GetOption.builder().isPrefix(true).build())
                    .get(callTimeout.toMillis(), TimeUnit.MILLISECONDS);
            reports.clear();
            response.getKvs().forEach(this::put);
            watcher = client.getWatchClient().watch(prefixBytes, WatchOption.builder().isPrefix(true)
                            .withRevision(response.getHeader().getRevision() + 1).build(),
                    Watch.listener(events -> onEvents(of, events), error -> onEnd(of), () -> onEnd(of)));
        } catch (ExecutionException | TimeoutException e) {
            log.debug("coordination: cannot read {} ({})", prefix, EtcdErrors.describe(e));
            thread.schedule(this::read, 1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void onEvents(long of, WatchResponse response) {
        if (of != generation) {
            return;
        }
        for (WatchEvent event : response.getEvents()) {
            if (event.getEventType() == WatchEvent.EventType.PUT) {
                put(event.getKeyValue());
            } else if (event.getEventType() == WatchEvent.EventType.DELETE) {
                reports.remove(idOf(event.getKeyValue()));
            }
        }
    }

    private void onEnd(long of) {
        if (!closed && of == generation) {
            thread.schedule(this::read, 1, TimeUnit.SECONDS);
        }
    }

    private void put(KeyValue kv) {
        try {
            reports.put(idOf(kv), HealthReport.decode(kv.getValue().getBytes()));
        } catch (IllegalArgumentException e) {
            log.warn("coordination: ignoring {}: {}", kv.getKey().toString(StandardCharsets.UTF_8), e.getMessage());
        }
    }

    private String idOf(KeyValue kv) {
        return kv.getKey().toString(StandardCharsets.UTF_8).substring(prefix.length());
    }

    void close() {
        closed = true;
        generation++;
        if (watcher != null) {
            watcher.close();
            watcher = null;
        }
    }
}
