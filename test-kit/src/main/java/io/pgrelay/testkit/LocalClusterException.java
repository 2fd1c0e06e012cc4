package io.pgrelay.testkit;

/**
 * A {@link LocalCluster} operation failed: a server did not start, a command exited with an
 * error, a wait timed out, or a prerequisite is missing. The message is meant to be read by a
 * person: it names the node, the command and, where there is one, the tail of the server log.
 */
public class LocalClusterException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public LocalClusterException(String message) {
        super(message);
    }

    public LocalClusterException(String message, Throwable cause) {
        super(message, cause);
    }

    /**
     * The PostgreSQL server binaries ({@code initdb}, {@code postgres}, {@code pg_ctl},
     * {@code pg_basebackup}) could not be found. The message says how to install them.
     */
    public static final class BinariesNotFound extends LocalClusterException {
        private static final long serialVersionUID = 1L;

        public BinariesNotFound(String message) {
            super(message);
        }
    }
}
