package io.pgrelay.core.session;

/** The classifier of each database (catalog facts differ per database). */
@FunctionalInterface
public interface SessionClassifiers {
    SessionClassifier forDatabase(String database);
}
