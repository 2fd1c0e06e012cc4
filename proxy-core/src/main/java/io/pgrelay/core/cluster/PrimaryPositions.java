package io.pgrelay.core.cluster;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Batches the global reads' position requests onto one query at a time, on a thread of its own
 * (event loops only enqueue). A request joins the next query to start, never one already under
 * way: that query may have read the position before a write that committed ahead of the read,
 * so sharing it would break the guarantee. Under load every read waits at most for the query
 * in flight plus its own, and the primary sees one query per round trip whatever the read rate.
 */
public final class PrimaryPositions implements PrimaryPosition, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PrimaryPositions.class);

    /** One position query; runs on the service's thread only. */
    @FunctionalInterface
    public interface Query {
        /** The primary's position now; {@code into} gets it, or an exception says why there is none. */
        void fetch(PrimaryPosition.Listener into) throws Exception;
    }

    private final Query query;
    private final ExecutorService thread;
    private final ConcurrentLinkedQueue<Listener> waiting = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean draining = new AtomicBoolean();
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong queries = new AtomicLong();

    public PrimaryPositions(Query query) {
        this.query = query;
        this.thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "pgrelay-primary-position");
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public void request(Listener listener) {
        requests.incrementAndGet();
        waiting.add(listener);
        if (draining.compareAndSet(false, true)) {
            try {
                thread.execute(this::drain);
            } catch (RejectedExecutionException e) {
                draining.set(false);
                answerAll(takeWaiting(), Lsn.INVALID, 0); // closed: the reads go to the primary
            }
        }
    }

    /** Requests so far; with {@link #queries()} it shows how much batching saved. */
    public long requests() {
        return requests.get();
    }

    public long queries() {
        return queries.get();
    }

    private void drain() {
        while (true) {
            List<Listener> batch = takeWaiting();
            if (batch.isEmpty()) {
                draining.set(false);
                // A request that came after the poll but saw draining still set must not be stranded.
                if (waiting.isEmpty() || !draining.compareAndSet(false, true)) {
                    return;
                }
                continue;
            }
            queries.incrementAndGet();
            long[] lsn = {Lsn.INVALID};
            int[] timeline = {0};
            try {
                query.fetch((l, t) -> {
                    lsn[0] = l;
                    timeline[0] = t;
                });
            } catch (Exception | Error e) { // a failed query sends its reads to the primary, never strands them
                log.debug("primary position unknown: {}", e.toString());
                lsn[0] = Lsn.INVALID;
            }
            answerAll(batch, lsn[0], timeline[0]);
        }
    }

    private List<Listener> takeWaiting() {
        List<Listener> batch = new ArrayList<>();
        for (Listener l = waiting.poll(); l != null; l = waiting.poll()) {
            batch.add(l);
        }
        return batch;
    }

    private static void answerAll(List<Listener> batch, long lsn, int timeline) {
        for (int i = 0; i < batch.size(); i++) {
            try {
                batch.get(i).position(lsn, timeline);
            } catch (RuntimeException e) {
                log.warn("a global read's position listener failed", e);
            }
        }
    }

    /** Lets a query under way finish (bounded by its timeout), then closes the query's connection. */
    @Override
    public void close() {
        thread.shutdown();
        try {
            if (!thread.awaitTermination(2, TimeUnit.SECONDS)) {
                thread.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        answerAll(takeWaiting(), Lsn.INVALID, 0);
        if (query instanceof AutoCloseable closeable) {
            try {
                closeable.close();
            } catch (Exception e) {
                log.debug("closing the primary position connection", e);
            }
        }
    }
}
