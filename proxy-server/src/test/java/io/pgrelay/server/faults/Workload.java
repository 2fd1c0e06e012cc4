package io.pgrelay.server.faults;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One pgjdbc client looping on a statement through the proxy while a fault happens, and how
 * each attempt ended: acknowledged, a clean SQLSTATE (then it reconnects when the connection is
 * gone, as an application's pool would), a hang (the client's socket timeout), or an error
 * without a SQLSTATE.
 */
final class Workload {
    interface Connector {
        Connection connect() throws SQLException;
    }

    private final Connector connector;
    private final String sql;
    private final String cell;
    private final Thread thread;
    private volatile boolean running = true;
    private final Set<Integer> acknowledged = ConcurrentHashMap.newKeySet();
    private final List<String> errorStates = new CopyOnWriteArrayList<>();
    private final List<String> unexpected = new CopyOnWriteArrayList<>();
    private final AtomicInteger hangs = new AtomicInteger();
    private final AtomicInteger successes = new AtomicInteger();

    private Workload(Connector connector, String sql, String cell, String name) {
        this.connector = connector;
        this.sql = sql;
        this.cell = cell;
        this.thread = new Thread(this::run, name);
        thread.setDaemon(true);
        thread.start();
    }

    /** Autocommit inserts of numbered rows; the numbers acknowledged are kept. */
    static Workload writer(Connector connector, String cell) {
        return new Workload(connector, "INSERT INTO fault_acks (cell, n) VALUES (?, ?)", cell, "fault-writer");
    }

    static Workload reader(Connector connector) {
        return new Workload(connector, "SELECT count(*) FROM pgbench_branches", null, "fault-reader");
    }

    private void run() {
        Connection connection = null;
        int n = 0;
        while (running) {
            try {
                if (connection == null) {
                    connection = connector.connect();
                }
                try (PreparedStatement st = connection.prepareStatement(sql)) {
                    if (cell != null) {
                        st.setString(1, cell);
                        st.setInt(2, ++n);
                        st.executeUpdate();
                        acknowledged.add(n);
                    } else {
                        try (ResultSet rs = st.executeQuery()) {
                            rs.next();
                        }
                    }
                    successes.incrementAndGet();
                }
                Thread.sleep(10);
            } catch (SQLException e) {
                classify(e);
                if (connection != null && gone(connection)) {
                    closeQuietly(connection);
                    connection = null;
                }
                pause();
            } catch (InterruptedException e) {
                return;
            }
        }
        closeQuietly(connection);
    }

    private void classify(SQLException e) {
        String message = String.valueOf(e.getMessage());
        if (message.contains("Read timed out")) {
            hangs.incrementAndGet();
        } else if (e.getSQLState() != null && e.getSQLState().length() == 5) {
            errorStates.add(e.getSQLState());
        } else {
            unexpected.add(e.getSQLState() + " " + message);
        }
    }

    private static boolean gone(Connection connection) {
        try {
            return connection.isClosed() || !connection.isValid(5);
        } catch (SQLException e) {
            return true;
        }
    }

    private static void closeQuietly(Connection connection) {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException ignored) {
                // already broken
            }
        }
    }

    private static void pause() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    void stop() throws InterruptedException {
        running = false;
        thread.join(40_000);
    }

    Set<Integer> acknowledged() {
        return acknowledged;
    }

    /** The distinct SQLSTATEs clients got, in order of first appearance. */
    List<String> errorStates() {
        return errorStates.stream().distinct().toList();
    }

    List<String> unexpected() {
        return unexpected;
    }

    int hangs() {
        return hangs.get();
    }

    int successes() {
        return successes.get();
    }
}
