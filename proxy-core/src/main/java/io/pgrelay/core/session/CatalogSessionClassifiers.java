package io.pgrelay.core.session;

import io.netty.buffer.ByteBuf;
import io.pgrelay.core.classify.CatalogService;
import io.pgrelay.core.classify.Classification;
import io.pgrelay.core.classify.Classifier;
import io.pgrelay.core.classify.ClassifierConfig;
import io.pgrelay.core.classify.Trait;
import io.pgrelay.core.classify.Route;

import java.util.concurrent.ConcurrentHashMap;

/**
 * One classifier per database, each over that database's catalog as loaded from the primary.
 * Until a database's catalog has been loaded once, everything goes to the primary: the built-in
 * catalog knows nothing of unlogged tables or of views over writing functions.
 */
public final class CatalogSessionClassifiers implements SessionClassifiers {
    private final CatalogService catalogs;
    private final ClassifierConfig config;
    private final ConcurrentHashMap<String, SessionClassifier> byDatabase = new ConcurrentHashMap<>();

    public CatalogSessionClassifiers(CatalogService catalogs, ClassifierConfig config) {
        this.catalogs = catalogs;
        this.config = config;
    }

    @Override
    public SessionClassifier forDatabase(String database) {
        return byDatabase.computeIfAbsent(database, db -> new Adapter(db, catalogs.classifier(db, config)));
    }

    private final class Adapter implements SessionClassifier {
        private final String database;
        private final Classifier classifier;
        private volatile boolean loaded;
        private volatile long lastUnknownReloadNanos;

        Adapter(String database, Classifier classifier) {
            this.database = database;
            this.classifier = classifier;
        }

        private boolean catalogLoaded() {
            if (!loaded && catalogs.version(database) > 0) {
                loaded = true;
            }
            return loaded;
        }

        @Override
        public Classification classify(ByteBuf buf, int index, int length, boolean scs) {
            Classification classification = classifier.classify(buf, index, length, scs);
            if (classification.has(Trait.UNKNOWN_NAME) && catalogLoaded()) {
                reloadForUnknownName();
            }
            if (classification.route() == Route.REPLICA && !catalogLoaded()) {
                return classification.onPrimary("catalog of " + database + " not loaded yet");
            }
            return classification;
        }

        /**
         * A name the catalog does not know is usually an object created since it was loaded
         * (outside pgrelay, or by another instance): reload, at most once a second.
         */
        private void reloadForUnknownName() {
            long now = System.nanoTime();
            if (now - lastUnknownReloadNanos > 1_000_000_000L) {
                lastUnknownReloadNanos = now;
                catalogs.invalidate(database);
            }
        }

        @Override
        public java.util.concurrent.CompletableFuture<?> ready() {
            return catalogs.firstLoad(database);
        }

        @Override
        public void schemaChanged() {
            catalogs.invalidate(database);
        }

        @Override
        public void rememberPrimary(ByteBuf buf, int index, int length, boolean scs) {
            classifier.rememberPrimary(buf, index, length, scs);
        }
    }
}
