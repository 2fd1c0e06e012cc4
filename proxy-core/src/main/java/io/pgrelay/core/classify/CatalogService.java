package io.pgrelay.core.classify;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Catalog snapshots per database name, loaded from the primary on this service's own executor
 * (never on an event loop): lazily on first use, then every refresh interval (default 60 s) and
 * whenever {@link #invalidate(String)} is called (the session calls it after DDL). Until the first
 * load succeeds, {@link BuiltinCatalog} answers (conservative: unknown functions and relations go to
 * the primary). A reload whose content equals the current snapshot keeps the current object, so
 * classifiers keep their caches; a different one replaces it and bumps {@link #version(String)},
 * which makes the database's {@link Classifier} drop its cache.
 */
public final class CatalogService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CatalogService.class);

    /** Opens a JDBC connection to the current primary, database {@code database}. */
    @FunctionalInterface
    public interface ConnectionSource {
        Connection open(String database) throws SQLException;
    }

    private static final long RETRY_AFTER_LOCK_MILLIS = 1000;

    private final ConnectionSource source;
    private final Duration refreshInterval;
    private final ScheduledExecutorService executor;
    private final CatalogLoader loader = new CatalogLoader();
    private final Map<String, Handle> handles = new ConcurrentHashMap<>();
    private final Map<String, Classifier> classifiers = new ConcurrentHashMap<>();

    public CatalogService(ConnectionSource source, Duration refreshInterval) {
        this.source = Objects.requireNonNull(source, "source");
        this.refreshInterval = Objects.requireNonNull(refreshInterval, "refreshInterval");
        this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pgrelay-catalog");
            t.setDaemon(true);
            return t;
        });
    }

    public CatalogService(ConnectionSource source) {
        this(source, Duration.ofSeconds(60));
    }

    /** The live catalog of {@code database} as a supplier (built-in until loaded; first use starts the load). */
    public Supplier<Catalog> catalog(String database) {
        return handle(database);
    }

    /** Every database's classifier created so far (for metrics). */
    public java.util.Collection<Classifier> classifiers() {
        return classifiers.values();
    }

    /** The shared classifier of {@code database} (one per database; the config of the first call wins). */
    public Classifier classifier(String database, ClassifierConfig config) {
        Classifier current = classifiers.get(database);
        if (current != null && current.config().equals(config)) {
            return current;
        }
        // A reload changed the routing settings: sessions opened from now on classify with the new ones.
        return classifiers.compute(database, (db, old) -> old != null && old.config().equals(config) ? old
                : new Classifier(handle(db), config));
    }

    /** Current snapshot version of {@code database} (0 = built-in catalog). */
    public long version(String database) {
        return handle(database).version.get();
    }

    /**
     * Completes once the first load of {@code database}'s catalog has finished, loaded or
     * failed; starts the load when nothing did yet.
     */
    public CompletableFuture<Void> firstLoad(String database) {
        Handle h = handle(database);
        h.get();
        return h.firstLoad;
    }

    /** Reloads {@code database}'s catalog soon (after DDL). */
    public void invalidate(String database) {
        Handle h = handles.get(database);
        if (h != null) {
            h.scheduleLoad();
        }
    }

    /** Loads now (asynchronously); completes with the catalog in force afterwards. */
    public CompletableFuture<Catalog> load(String database) {
        Handle h = handle(database);
        return CompletableFuture.supplyAsync(() -> {
            h.loadNow();
            return h.current;
        }, executor);
    }

    /** Blocking load for command-line use; throws when the load fails. */
    public Catalog loadBlocking(String database) throws SQLException {
        Handle h = handle(database);
        try (Connection c = source.open(database)) {
            h.install(loader.load(c));
        }
        return h.current;
    }

    private Handle handle(String database) {
        return handles.computeIfAbsent(database, Handle::new);
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }

    private final class Handle implements Supplier<Catalog> {
        final String database;
        final AtomicBoolean started = new AtomicBoolean();
        final AtomicBoolean pending = new AtomicBoolean();
        final AtomicLong version = new AtomicLong();
        final CompletableFuture<Void> firstLoad = new CompletableFuture<>();
        volatile Catalog current = BuiltinCatalog.get();

        Handle(String database) {
            this.database = database;
        }

        @Override
        public Catalog get() {
            if (!started.get() && started.compareAndSet(false, true)) {
                scheduleLoad();
                long period = refreshInterval.toMillis();
                if (period > 0) {
                    executor.scheduleWithFixedDelay(this::loadNow, period, period, TimeUnit.MILLISECONDS);
                }
            }
            return current;
        }

        void scheduleLoad() {
            if (pending.compareAndSet(false, true)) {
                try {
                    executor.execute(() -> {
                        pending.set(false);
                        loadNow();
                    });
                } catch (RuntimeException e) {
                    pending.set(false);
                }
            }
        }

        void loadNow() {
            long t0 = System.nanoTime();
            try (Connection c = source.open(database)) {
                CatalogSnapshot snapshot = loader.load(c);
                boolean changed = install(snapshot);
                log.debug("catalog of {} loaded in {} ms{}", database, (System.nanoTime() - t0) / 1_000_000,
                        changed ? " (changed)" : "");
            } catch (SQLException e) {
                if (CatalogLoader.LOCK_NOT_AVAILABLE.equals(e.getSQLState())) {
                    log.debug("catalog of {}: a client's DDL holds a lock; trying again shortly", database);
                    executor.schedule(this::scheduleLoad, RETRY_AFTER_LOCK_MILLIS, TimeUnit.MILLISECONDS);
                } else {
                    log.warn("cannot load the catalog of database {} from the primary: {} (keeping {})", database,
                            e.getMessage(), current.describe());
                }
            } catch (RuntimeException e) {
                log.warn("cannot load the catalog of database {} from the primary: {} (keeping {})", database,
                        e.getMessage(), current.describe());
            } finally {
                firstLoad.complete(null);
            }
        }

        synchronized boolean install(CatalogSnapshot snapshot) {
            Catalog old = current;
            if (old instanceof CatalogSnapshot && ((CatalogSnapshot) old).contentHash().equals(snapshot.contentHash())) {
                return false;
            }
            current = snapshot;
            version.incrementAndGet();
            log.info("{} (version {})", snapshot.describe(), version.get());
            return true;
        }
    }
}
