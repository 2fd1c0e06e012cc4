package io.pgrelay.core.net;

/**
 * What pgrelay's own JDBC connections (monitor, catalog loader, cluster operations) set so that
 * their queries mean what they say whatever the database or role defaults are: a
 * {@code search_path} of only {@code pg_catalog} (then {@code pg_temp}, so that a temporary
 * object never shadows a catalog one). Without it, a database owner could
 * {@code ALTER DATABASE ... SET search_path} to a schema whose operators or functions shadow
 * the catalog's and run them with the monitor user's privileges (the class of PgBouncer's
 * CVE-2025-12819).
 */
public final class InternalConnections {
    /** The pgjdbc {@code options} connection property: startup settings the server applies first. */
    public static final String OPTIONS = "-c search_path=pg_catalog,pg_temp";

    private InternalConnections() {
    }
}
