package io.pgrelay.core.coordination;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.options.PutOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
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
 * reads everyone's (a {@link KeyWatch}). Blocking calls run on the coordinator's thread.
 */
final class HealthBoard implements KeyWatch.Listener {
    private static final Logger log = LoggerFactory.getLogger(HealthBoard.class);
    private static final Duration PERIODIC = Duration.ofMillis(500);

    private final Client client;
    private final String prefix;
    private final String selfKey;
    private final ScheduledExecutorService thread;
    private final Duration callTimeout;
    private final LongSupplier lease;
    private final Supplier<HealthReport> mine;
    private final Map<String, HealthReport> reports = new ConcurrentHashMap<>();
    private final AtomicBoolean publishPending = new AtomicBoolean();
    private final KeyWatch watch;
    private volatile boolean closed;
    private HealthReport published;
    private long publishedLease;

    HealthBoard(Client client, String prefix, String selfId, ScheduledExecutorService thread, Duration callTimeout,
                LongSupplier lease, Supplier<HealthReport> mine) {
        this.client = client;
        this.prefix = prefix;
        this.selfKey = prefix + selfId;
        this.thread = thread;
        this.callTimeout = callTimeout;
        this.lease = lease;
        this.mine = mine;
        this.watch = new KeyWatch(client, prefix, true, thread, callTimeout, Duration.ofSeconds(1), this);
    }

    /** Every live instance's last report, by member id. */
    Map<String, HealthReport> reports() {
        return Map.copyOf(reports);
    }

    void start() {
        watch.start();
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

    @Override
    public void read(List<KeyValue> kvs, long revision) {
        reports.clear();
        kvs.forEach(this::put);
    }

    @Override
    public void deleted(KeyValue kv) {
        reports.remove(idOf(kv));
    }

    @Override
    public void put(KeyValue kv) {
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
        watch.close();
    }
}
