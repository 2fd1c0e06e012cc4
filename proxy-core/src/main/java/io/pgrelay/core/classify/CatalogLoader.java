package io.pgrelay.core.classify;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the catalog facts of the connected database (on the primary) into a {@link CatalogSnapshot}:
 * {@code pg_proc} (volatility, kind, language, body), {@code pg_class} (persistence of tables,
 * views, materialized views, partitioned and foreign tables, sequences), {@code pg_inherits},
 * view definitions ({@code pg_get_viewdef}), row-level security policies and user-defined
 * operators. Blocking JDBC: never call it on an event loop. The connection is used, not closed.
 */
public final class CatalogLoader {
    private static final String USER_SCHEMAS = "n.nspname NOT IN ('pg_catalog', 'information_schema') "
            + "AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'";

    /** Shorter than the server's deadlock_timeout (1 s by default). */
    static final int LOCK_TIMEOUT_MILLIS = 200;
    /** The SQLSTATE of a lock wait given up ({@code lock_timeout}). */
    static final String LOCK_NOT_AVAILABLE = "55P03";

    /** Loads the catalog of the database {@code connection} is connected to. */
    public CatalogSnapshot load(Connection connection) throws SQLException {
        String database;
        int version;
        try (Statement st = connection.createStatement()) {
            // pg_get_viewdef() locks each view: a DROP ... CASCADE of a client that holds some of
            // them would deadlock with us. Give up quickly (before the deadlock detector picks the
            // client) and try again later.
            st.execute("SET lock_timeout = '" + LOCK_TIMEOUT_MILLIS + "ms'");
            try (ResultSet rs = st.executeQuery("SELECT current_database(), current_setting('server_version_num')::int")) {
                rs.next();
                database = rs.getString(1);
                version = rs.getInt(2);
            }
            String body = version >= 140000
                    ? "CASE WHEN p.prosqlbody IS NOT NULL THEN pg_get_function_sqlbody(p.oid) ELSE p.prosrc END"
                    : "p.prosrc";
            String kind = version >= 110000 ? "p.prokind" : "CASE WHEN p.proisagg THEN 'a' ELSE 'f' END";
            List<CatalogSnapshot.RawFunction> functions = new ArrayList<>();
            try (ResultSet rs = st.executeQuery("SELECT n.nspname, p.proname, p.provolatile, " + kind
                    + ", p.proretset, l.lanname, CASE WHEN l.lanname IN ('sql', 'plpgsql') THEN " + body + " END"
                    + " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
                    + " JOIN pg_language l ON l.oid = p.prolang WHERE " + USER_SCHEMAS)) {
                while (rs.next()) {
                    functions.add(new CatalogSnapshot.RawFunction(rs.getString(1), rs.getString(2),
                            rs.getString(3).charAt(0), rs.getString(4).charAt(0), rs.getBoolean(5), rs.getString(6),
                            rs.getString(7)));
                }
            }
            List<CatalogSnapshot.RawRelation> relations = new ArrayList<>();
            try (ResultSet rs = st.executeQuery("SELECT n.nspname, c.relname, c.relkind, c.relpersistence"
                    + " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                    + " WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f', 'S') AND c.relpersistence <> 't' AND "
                    + USER_SCHEMAS)) {
                while (rs.next()) {
                    relations.add(new CatalogSnapshot.RawRelation(rs.getString(1), rs.getString(2),
                            rs.getString(3).charAt(0), rs.getString(4).charAt(0)));
                }
            }
            List<CatalogSnapshot.RawInherit> inherits = new ArrayList<>();
            try (ResultSet rs = st.executeQuery("SELECT pn.nspname, pc.relname, cn.nspname, cc.relname"
                    + " FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent"
                    + " JOIN pg_namespace pn ON pn.oid = pc.relnamespace JOIN pg_class cc ON cc.oid = i.inhrelid"
                    + " JOIN pg_namespace cn ON cn.oid = cc.relnamespace")) {
                while (rs.next()) {
                    inherits.add(new CatalogSnapshot.RawInherit(rs.getString(1), rs.getString(2), rs.getString(3),
                            rs.getString(4)));
                }
            }
            List<CatalogSnapshot.RawView> views = new ArrayList<>();
            try (ResultSet rs = st.executeQuery("SELECT n.nspname, c.relname, pg_get_viewdef(c.oid)"
                    + " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'v' AND "
                    + USER_SCHEMAS)) {
                while (rs.next()) {
                    views.add(new CatalogSnapshot.RawView(rs.getString(1), rs.getString(2), rs.getString(3)));
                }
            }
            List<CatalogSnapshot.RawPolicy> policies = new ArrayList<>();
            try (ResultSet rs = st.executeQuery("SELECT n.nspname, c.relname, pg_get_expr(p.polqual, p.polrelid),"
                    + " pg_get_expr(p.polwithcheck, p.polrelid) FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid"
                    + " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relrowsecurity")) {
                while (rs.next()) {
                    policies.add(new CatalogSnapshot.RawPolicy(rs.getString(1), rs.getString(2), rs.getString(3)));
                    if (rs.getString(4) != null) {
                        policies.add(new CatalogSnapshot.RawPolicy(rs.getString(1), rs.getString(2), rs.getString(4)));
                    }
                }
            }
            List<CatalogSnapshot.RawOperator> operators = new ArrayList<>();
            try (ResultSet rs = st.executeQuery("SELECT o.oprname, fn.nspname, f.proname FROM pg_operator o"
                    + " JOIN pg_proc f ON f.oid = o.oprcode JOIN pg_namespace fn ON fn.oid = f.pronamespace"
                    + " JOIN pg_namespace n ON n.oid = o.oprnamespace WHERE n.nspname <> 'pg_catalog'")) {
                while (rs.next()) {
                    operators.add(new CatalogSnapshot.RawOperator(rs.getString(1), rs.getString(2), rs.getString(3)));
                }
            }
            return CatalogSnapshot.build(database, new CatalogSnapshot.Raw(functions, relations, inherits, views,
                    policies, operators));
        }
    }
}
