package io.pgrelay.server.classify;

import io.pgrelay.core.classify.CatalogLoader;
import io.pgrelay.core.classify.CatalogSnapshot;
import io.pgrelay.core.classify.Hazard;
import io.pgrelay.testkit.LocalCluster;
import io.pgrelay.testkit.TestCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link CatalogLoader} against a real primary: it judges views by what their stored rule calls
 * and reads, and takes no lock on the relations a view reads (pg_get_viewdef() did, so a reload
 * after a client's DDL made that client's {@code LOCK ... NOWAIT} fail: the regression suite's
 * {@code lock} test through pgrelay).
 */
class CatalogLoaderIT {
    private static final String DB = "catalog_loader";
    private static LocalCluster cluster;

    @BeforeAll
    static void schema() throws SQLException {
        cluster = TestCluster.get();
        cluster.execute("postgres", "DROP DATABASE IF EXISTS " + DB);
        cluster.execute("postgres", "CREATE DATABASE " + DB);
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE accounts (id int PRIMARY KEY, balance int)");
            st.execute("CREATE UNLOGGED TABLE scratch (id int)");
            st.execute("CREATE SEQUENCE ticket_no");
            st.execute("CREATE FUNCTION audit_touch(i int) RETURNS int LANGUAGE sql VOLATILE"
                    + " AS 'UPDATE accounts SET balance = balance WHERE id = i RETURNING id'");
            st.execute("CREATE VIEW plain_view AS SELECT id, balance + 1 AS b, upper('x') FROM accounts WHERE id > 0");
            st.execute("CREATE VIEW ticket_view AS SELECT nextval('ticket_no') AS n");
            st.execute("CREATE VIEW touching_view AS SELECT audit_touch(id) FROM accounts");
            st.execute("CREATE VIEW scratch_view AS SELECT * FROM (SELECT id FROM scratch) s");
            st.execute("CREATE VIEW locking_view AS SELECT id FROM accounts FOR UPDATE");
            st.execute("CREATE VIEW view_of_view AS SELECT n FROM ticket_view");
            st.execute("CREATE VIEW \"Odd Name\" AS SELECT count(*) OVER () FROM accounts");
        }
    }

    @AfterAll
    static void drop() {
        cluster.execute("postgres", "DROP DATABASE IF EXISTS " + DB + " WITH (FORCE)");
    }

    private static Connection connect() throws SQLException {
        return cluster.primary().connect(DB, LocalCluster.SUPERUSER, cluster.superuser().password());
    }

    private static Hazard hazard(CatalogSnapshot catalog, String view) {
        return catalog.relation("public", view) == null ? Hazard.NONE : catalog.relation("public", view).hazard();
    }

    @Test
    void viewsAreJudgedByWhatTheirRuleCallsAndReads() throws SQLException {
        CatalogSnapshot catalog;
        try (Connection c = connect()) {
            catalog = new CatalogLoader().load(c);
        }
        assertThat(hazard(catalog, "plain_view")).isEqualTo(Hazard.NONE);
        assertThat(hazard(catalog, "Odd Name")).isEqualTo(Hazard.NONE);
        assertThat(hazard(catalog, "ticket_view")).as("nextval()").isEqualTo(Hazard.UNSAFE_VIEW);
        assertThat(hazard(catalog, "touching_view")).as("a function that writes").isEqualTo(Hazard.UNSAFE_VIEW);
        assertThat(hazard(catalog, "scratch_view")).as("an unlogged table in a subquery").isEqualTo(Hazard.UNSAFE_VIEW);
        assertThat(catalog.relation("public", "scratch_view").planHazard()).as("planning reads the unlogged table").isTrue();
        assertThat(hazard(catalog, "locking_view")).as("FOR UPDATE").isEqualTo(Hazard.UNSAFE_VIEW);
        assertThat(hazard(catalog, "view_of_view")).as("a view over an unsafe view").isEqualTo(Hazard.UNSAFE_VIEW);
    }

    @Test
    void loadingTakesNoLockOnWhatTheViewsRead() throws SQLException {
        try (Connection holder = connect(); Statement st = holder.createStatement()) {
            holder.setAutoCommit(false);
            st.execute("LOCK TABLE accounts, scratch IN ACCESS EXCLUSIVE MODE");
            long began = System.nanoTime();
            CatalogSnapshot catalog;
            try (Connection c = connect()) {
                catalog = new CatalogLoader().load(c); // pg_get_viewdef() would wait here, then fail with 55P03
            }
            long millis = (System.nanoTime() - began) / 1_000_000;
            assertThat(hazard(catalog, "touching_view")).isEqualTo(Hazard.UNSAFE_VIEW);
            assertThat(millis).as("load time while the tables are locked (ms)").isLessThan(5000);
            holder.rollback();
        }
    }
}
