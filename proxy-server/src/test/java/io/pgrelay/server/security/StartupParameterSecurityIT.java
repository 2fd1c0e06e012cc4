package io.pgrelay.server.security;

import io.pgrelay.server.testing.TestProxy;
import io.pgrelay.testkit.LocalCluster;
import io.pgrelay.testkit.TestCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The cases behind PgBouncer's CVE-2025-12819 (a client's search_path in the startup packet
 * reached a query the pooler ran for itself, whose unqualified operator then ran the client's
 * code): pgrelay's own queries never resolve a name through a search_path a client or a
 * database owner chose, and startup options never change what pgrelay or the server enforce.
 * A schema {@code evil} shadows the catalog functions and the oid {@code =} operator pgrelay's
 * queries use; every call of its objects is recorded in {@code evil.calls}.
 */
class StartupParameterSecurityIT {
    private static final String EVIL_PATH = "-c search_path=evil,public,pg_catalog";
    private static LocalCluster cluster;
    private static TestProxy proxy;

    @BeforeAll
    static void setUp() {
        cluster = TestCluster.get();
        cluster.execute("app", """
                DROP SCHEMA IF EXISTS evil CASCADE;
                CREATE SCHEMA evil;
                GRANT USAGE ON SCHEMA evil TO PUBLIC;
                CREATE TABLE evil.calls (what text);
                GRANT INSERT, SELECT ON evil.calls TO PUBLIC;
                CREATE FUNCTION evil.pg_current_wal_insert_lsn() RETURNS pg_lsn LANGUAGE sql
                    AS $$ INSERT INTO evil.calls VALUES ('pg_current_wal_insert_lsn'); SELECT '0/1'::pg_lsn $$;
                CREATE FUNCTION evil.oideq(oid, oid) RETURNS boolean LANGUAGE plpgsql
                    AS $$ BEGIN INSERT INTO evil.calls VALUES ('oid ='); RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
                CREATE OPERATOR evil.= (LEFTARG = oid, RIGHTARG = oid, FUNCTION = evil.oideq);
                CREATE FUNCTION evil.lower(text) RETURNS text LANGUAGE sql VOLATILE
                    AS $$ INSERT INTO evil.calls VALUES ('lower'); SELECT 'evil'::text $$;
                DROP TABLE IF EXISTS public.sec_target;
                CREATE TABLE public.sec_target (id int);
                GRANT INSERT, SELECT ON public.sec_target TO app;
                """);
        // What a database owner could do: every superuser session in this database resolves
        // names through evil first, pgrelay's catalog loader included, unless it sets its own path.
        cluster.execute("app", "ALTER ROLE postgres IN DATABASE app SET search_path = evil, public, pg_catalog");
        proxy = TestProxy.start("");
    }

    @AfterAll
    static void tearDown() {
        if (proxy != null) {
            proxy.close();
        }
        cluster.execute("app", "ALTER ROLE postgres IN DATABASE app RESET search_path");
        cluster.execute("app", "DROP SCHEMA evil CASCADE; DROP TABLE public.sec_target");
    }

    @BeforeEach
    void forgetCalls() {
        cluster.execute("app", "TRUNCATE evil.calls");
    }

    private static long evilCalls() throws SQLException {
        try (Connection c = cluster.primary().connect("app", "postgres", "postgres");
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT pg_catalog.count(*) FROM evil.calls")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static Connection connect(String user, String options) throws SQLException {
        Properties props = new Properties();
        props.setProperty("options", options);
        return proxy.connect("app", user, user, props);
    }

    private static String query(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    @Test
    void theTrapIsArmedForUnqualifiedQueries() throws SQLException {
        try (Connection c = cluster.primary().connect("app", "postgres", "postgres")) {
            query(c, "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace");
        }
        assertThat(evilCalls()).as("a superuser session without a path of its own runs evil's operator").isPositive();
    }

    @Test
    void theCatalogLoaderIsNotSubvertedByTheDatabasesSearchPath() throws Exception {
        try (Connection c = proxy.connect()) {
            proxy.relay().proxy().catalogs().firstLoad("app").get(30, TimeUnit.SECONDS);
            assertThat(proxy.relay().proxy().catalogs().version("app")).as("catalog loaded").isPositive();
            assertThat(query(c, "SELECT 1")).isEqualTo("1");
        }
        assertThat(evilCalls()).as("calls of evil's objects by pgrelay's own queries").isZero();
    }

    @Test
    void causalConsistencysQueriesIgnoreTheClientsSearchPath() throws SQLException {
        try (Connection c = connect("app", EVIL_PATH + " -c pgrelay.consistency=causal")) {
            assertThat(query(c, "SHOW search_path")).startsWith("evil");
            try (Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO sec_target VALUES (1)"); // pgrelay learns the WAL position
            }
            assertThat(query(c, "SELECT pg_catalog.count(*)::text FROM sec_target")).isNotNull();
        }
        assertThat(evilCalls()).as("calls of evil's objects by pgrelay's own queries").isZero();
    }

    @Test
    void aFunctionTheClientsSearchPathShadowsIsTakenForTheWritingOne() throws Exception {
        proxy.relay().proxy().catalogs().firstLoad("app").get(30, TimeUnit.SECONDS);
        try (Connection c = connect("app", EVIL_PATH)) {
            // The classifier does not know the session's path: an unqualified name means any function of that name.
            assertThat(query(c, "SELECT lower('X')")).isEqualTo("evil");
        }
        assertThat(evilCalls()).as("the client's own call ran, on the primary").isEqualTo(1);
    }

    @Test
    void aRouteOptionDoesNotSendWritesToAReplica() throws SQLException {
        try (Connection c = connect("app", "-c pgrelay.route=replica"); Statement s = c.createStatement()) {
            assertThat(query(c, "SHOW pgrelay.route")).isEqualTo("replica");
            assertThat(s.executeUpdate("INSERT INTO sec_target VALUES (2)")).isEqualTo(1);
        }
    }

    @Test
    void aRoleOptionCannotMakeAUserAnotherRole() {
        assertThatThrownBy(() -> connect("app", "-c role=postgres").close())
                .isInstanceOf(SQLException.class)
                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501"));
        assertThatThrownBy(() -> connect("app", "-c session_authorization=postgres").close())
                .isInstanceOf(SQLException.class)
                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501"));
    }

    @Test
    void aPlainStartupParameterCannotEitherMakeAUserAnotherRole() {
        Properties props = new Properties();
        props.setProperty("options", "--role=postgres");
        assertThatThrownBy(() -> proxy.connect("app", "app", "app", props).close())
                .isInstanceOf(SQLException.class)
                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501"));
    }

    @Test
    void ordinarySettingsPassAndTheServerEnforcesThem() throws SQLException {
        try (Connection c = connect("app", "-c default_transaction_read_only=on")) {
            assertThat(query(c, "SELECT current_user")).isEqualTo("app");
            assertThatThrownBy(() -> {
                try (Statement s = c.createStatement()) {
                    s.executeUpdate("INSERT INTO sec_target VALUES (3)");
                }
            }).satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("25006"));
        }
    }
}
