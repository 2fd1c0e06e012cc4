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
 * what each view calls and reads (from its stored rule, see {@link #VIEWS}), row-level security
 * policies and user-defined operators. Blocking JDBC: never call it on an event loop. The
 * connection is used, not closed.
 */
public final class CatalogLoader {
    private static final String USER_SCHEMAS = "n.nspname NOT IN ('pg_catalog', 'information_schema') "
            + "AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'";

    /**
     * Each user view with the functions its query calls (directly, through operators, aggregates
     * and window functions), the relations it reads, and whether it locks rows, read from the
     * stored tree of its {@code _RETURN} rule ({@code pg_rewrite.ev_action}) as plain catalog data.
     * Not decompiled with {@code pg_get_viewdef()}: that locks every relation the view reads until
     * the statement ends, so a reload right after a client's DDL made that client's
     * {@code LOCK ... NOWAIT} fail, or deadlocked with its {@code DROP ... CASCADE}. The tree also
     * names system functions by oid where the text would need resolving.
     */
    static final String VIEWS = "SELECT n.nspname, c.relname,"
            + " ARRAY(SELECT DISTINCT quote_ident(fn.nspname) || '.' || quote_ident(f.proname)"
            + "   FROM regexp_matches(r.ev_action::text, ':(?:funcid|opfuncid|aggfnoid|winfnoid|hashfuncid) (\\d+)', 'g') m"
            + "   JOIN pg_proc f ON f.oid = m[1]::oid JOIN pg_namespace fn ON fn.oid = f.pronamespace ORDER BY 1),"
            + " ARRAY(SELECT DISTINCT quote_ident(rn.nspname) || '.' || quote_ident(rc.relname)"
            + "   FROM regexp_matches(r.ev_action::text, ':relid (\\d+)', 'g') m"
            + "   JOIN pg_class rc ON rc.oid = m[1]::oid JOIN pg_namespace rn ON rn.oid = rc.relnamespace"
            + "   WHERE rc.oid <> c.oid ORDER BY 1),"
            + " r.ev_action::text LIKE '%{ROWMARKCLAUSE %'"
            + " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            + " JOIN pg_rewrite r ON r.ev_class = c.oid AND r.rulename = '_RETURN'"
            + " WHERE c.relkind = 'v' AND " + USER_SCHEMAS + " ORDER BY 1, 2";

    /**
     * A query with the hazards of a view: a call of each function (arguments do not matter, the
     * classifier judges a function by its name), each relation read, and FOR UPDATE when the view
     * locks rows; the classifier judges it as it would judge the view's own query.
     */
    static String hazardQuery(String[] functions, String[] relations, boolean locksRows) {
        StringBuilder sql = new StringBuilder("SELECT ");
        if (functions.length == 0) {
            sql.append('1');
        }
        for (int i = 0; i < functions.length; i++) {
            sql.append(i == 0 ? "" : ", ").append(functions[i]).append("()");
        }
        for (int i = 0; i < relations.length; i++) {
            sql.append(i == 0 ? " FROM " : ", ").append(relations[i]);
        }
        if (locksRows) {
            sql.append(" FOR UPDATE");
        }
        return sql.toString();
    }

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
            try (ResultSet rs = st.executeQuery(VIEWS)) {
                while (rs.next()) {
                    views.add(new CatalogSnapshot.RawView(rs.getString(1), rs.getString(2),
                            hazardQuery((String[]) rs.getArray(3).getArray(), (String[]) rs.getArray(4).getArray(),
                                    rs.getBoolean(5))));
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
