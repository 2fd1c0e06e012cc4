package io.pgrelay.server.routing;

import io.pgrelay.server.testing.TestProxy;
import io.pgrelay.testkit.TestCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A statement routed to a replica that the replica refuses as a write is run on the primary
 * without the client noticing, and goes to the primary directly from then on.
 */
class SafetyNetIT {
    private static TestProxy proxy;

    @BeforeAll
    static void start() throws Exception {
        try (Connection c = TestCluster.get().primary().connect("app", "app", "app"); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS net_log (id serial primary key, at timestamptz default now())");
            s.execute("CREATE OR REPLACE FUNCTION sneaky_write() RETURNS int LANGUAGE sql VOLATILE "
                    + "AS $$ INSERT INTO net_log DEFAULT VALUES RETURNING id $$");
        }
        TestCluster.get().waitForReplication(Duration.ofSeconds(10));
        // Misconfigured on purpose: a writer declared read-only reaches a replica.
        proxy = TestProxy.start("routing: { read-only-functions: [sneaky_write] }\n");
    }

    @AfterAll
    static void stop() {
        proxy.close();
    }

    /** Until the catalog is loaded everything goes to the primary; wait for reads to reach a replica. */
    private static void awaitReplicaReads() throws SQLException, InterruptedException {
        int primaryPort = TestCluster.get().primary().port();
        for (int i = 0; i < 100; i++) {
            try (Connection c = proxy.connect(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT current_setting('port')::int")) {
                rs.next();
                if (rs.getInt(1) != primaryPort) {
                    return;
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("reads never reached a replica");
    }

    private long retries() {
        return proxy.relay().proxy().view().metricRegistry().counter("pgrelay.routing.replica_retries").getCount();
    }

    @Test
    void replicaRefusalIsRerunOnThePrimary() throws SQLException, InterruptedException {
        Properties simple = new Properties();
        simple.setProperty("preferQueryMode", "simple");
        int primaryPort = TestCluster.get().primary().port();
        awaitReplicaReads();
        long before = retries();
        for (Connection c : new Connection[] {proxy.connect(), proxy.connect("app", "app", "app", simple)}) {
            try (c; Statement s = c.createStatement()) {
                for (int i = 0; i < 3; i++) {
                    try (ResultSet rs = s.executeQuery("SELECT sneaky_write() > 0, current_setting('port')::int")) {
                        assertThat(rs.next()).isTrue();
                        assertThat(rs.getBoolean(1)).isTrue();
                        assertThat(rs.getInt(2)).isEqualTo(primaryPort);
                    }
                }
            }
        }
        assertThat(retries() - before).as("refused once by a replica, then routed to the primary directly")
                .isEqualTo(1);
    }
}
