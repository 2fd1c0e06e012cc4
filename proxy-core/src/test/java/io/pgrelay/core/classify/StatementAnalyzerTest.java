package io.pgrelay.core.classify;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** One test per routing rule, with positive and negative cases (live catalog of the corpus schema). */
class StatementAnalyzerTest {
    private static final Classifier LIVE = new Classifier(TestCatalogs.shop(), ClassifierConfig.defaults());
    private static final Classifier BUILTIN = new Classifier(BuiltinCatalog.get(), ClassifierConfig.defaults());

    private static Classification c(String sql) {
        return LIVE.classify(sql, true);
    }

    /** The session effects of all statements of {@code sql}, in order. */
    private static List<SessionEffect> effects(String sql) {
        return c(sql).statements().stream().flatMap(s -> s.effects().stream()).toList();
    }

    private static boolean hasEffect(String sql, Class<? extends SessionEffect> type) {
        return effects(sql).stream().anyMatch(type::isInstance);
    }

    private static void primary(String... sqls) {
        for (String sql : sqls) {
            assertThat(c(sql).route()).as(sql + " -> " + c(sql).reason()).isEqualTo(Route.PRIMARY);
        }
    }

    private static void replica(String... sqls) {
        for (String sql : sqls) {
            assertThat(c(sql).route()).as(sql + " -> " + c(sql).reason()).isEqualTo(Route.REPLICA);
        }
    }

    @Test
    void plainReads() {
        replica("SELECT 1", "SELECT", "select * from customers", "TABLE customers", "(SELECT 1)",
                "VALUES (1, 'a')", "SELECT * FROM generate_series(1, 5) g(i)", "SELECT * FROM (VALUES (1)) v(x)",
                "SELECT x::varchar(10), y::character varying(3), z::timestamp(3) with time zone FROM customers",
                "SELECT count(*) FILTER (WHERE id > 1) OVER (PARTITION BY country) FROM customers",
                "SELECT extract(year FROM created_at), substring(name FROM 1 FOR 2) FROM customers",
                "SELECT * FROM customers c NATURAL JOIN orders o", "SELECT * FROM ONLY events",
                "SELECT * FROM customers TABLESAMPLE SYSTEM (10) REPEATABLE (1)",
                "SELECT * FROM pg_catalog.pg_class", "SELECT * FROM information_schema.tables",
                "SELECT * FROM \"größen\"", "SELECT * FROM billing.invoice_no_seq",
                "SELECT a IS DISTINCT FROM b FROM customers", "SELECT * FROM sales_by_day");
        assertThat(c("SELECT 1").kind()).isEqualTo(StatementKind.READ);
    }

    @Test
    void writesByStatementType() {
        primary("INSERT INTO t VALUES (1)", "UPDATE customers SET name = name WHERE false",
                "DELETE FROM audit.log WHERE false", "TRUNCATE audit.log", "CREATE TABLE x (a int)",
                "ALTER TABLE customers ADD COLUMN p text", "DROP TABLE IF EXISTS nope", "COMMENT ON TABLE t IS 'x'",
                "GRANT SELECT ON t TO r", "REVOKE ALL ON t FROM r", "SECURITY LABEL ON TABLE t IS 'x'",
                "REINDEX TABLE t", "CLUSTER", "VACUUM t", "ANALYZE t", "REFRESH MATERIALIZED VIEW sales_by_day",
                "CREATE TABLE t2 AS SELECT 1", "IMPORT FOREIGN SCHEMA s FROM SERVER x INTO y", "ALTER SYSTEM SET a = 1",
                "CHECKPOINT", "LOAD 'auto_explain'", "CREATE EXTENSION IF NOT EXISTS plpgsql",
                "MERGE INTO stock_updates t USING (VALUES ('a', 1)) v(s, d) ON t.sku = v.s WHEN MATCHED THEN DELETE",
                "REASSIGN OWNED BY a TO b", "CALL close_paid_orders(now())", "NOTIFY chan, 'x'", "LISTEN chan",
                "UNLISTEN *", "frobnicate the database");
        assertThat(c("INSERT INTO t VALUES (1)").kind()).isEqualTo(StatementKind.WRITE);
    }

    @Test
    void lockingClausesAnywhere() {
        primary("SELECT * FROM customers FOR UPDATE", "SELECT * FROM customers FOR NO KEY UPDATE",
                "SELECT * FROM customers FOR SHARE", "SELECT * FROM customers FOR KEY SHARE OF customers NOWAIT",
                "SELECT * FROM (SELECT * FROM customers FOR UPDATE) s",
                "WITH l AS (SELECT id FROM orders FOR UPDATE SKIP LOCKED) SELECT count(*) FROM l",
                "SELECT * FROM customers WHERE id IN (SELECT customer_id FROM orders FOR SHARE)",
                "SELECT * FROM locked_orders");
        replica("SELECT 'FOR UPDATE'", "SELECT * FROM customers /* FOR UPDATE */",
                "SELECT substring('abc' FROM 1 FOR 2)");
    }

    @Test
    void dataModifyingCtesButNotKeywordNamedCtes() {
        primary("WITH ins AS (INSERT INTO audit.log (action) VALUES ('x') RETURNING id) SELECT id FROM ins",
                "WITH u AS (UPDATE orders SET note = note RETURNING id) SELECT * FROM u",
                "WITH d AS (DELETE FROM audit.log RETURNING *) SELECT 1",
                "WITH m AS (SELECT 1) DELETE FROM audit.log", "WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x",
                "WITH a AS (SELECT 1), b AS (UPDATE only orders SET note = 'x' RETURNING 1) SELECT 1");
        replica("WITH update AS (SELECT 1 AS x) SELECT x FROM update",
                "WITH delete AS (SELECT 1 AS insert) SELECT insert FROM delete",
                "WITH \"insert\" AS (SELECT 1 AS \"update\") SELECT \"update\" FROM \"insert\"",
                "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 3) SELECT * FROM t",
                "WITH RECURSIVE tree(id, depth) AS (SELECT 1, 0 UNION ALL SELECT id + 1, depth + 1 FROM tree"
                        + " WHERE depth < 3) SEARCH DEPTH FIRST BY id SET ord SELECT * FROM tree ORDER BY ord",
                "SELECT 2 AS truncate, 3 AS vacuum, 4 AS copy, 5 AS update, 6 AS delete");
    }

    @Test
    void selectInto() {
        primary("SELECT 1 INTO t", "SELECT id INTO TEMP TABLE tmp FROM customers", "select 1 as x into unlogged y",
                "WITH x AS (SELECT 1) SELECT * INTO t FROM x");
        assertThat(hasEffect("SELECT id INTO TEMP TABLE tmp FROM customers", SessionEffect.CreateTemporaryObject.class))
                .isTrue();
        assertThat(c("SELECT id INTO TEMP TABLE tmp FROM customers").kind()).isEqualTo(StatementKind.WRITE);
    }

    @Test
    void explain() {
        replica("EXPLAIN SELECT * FROM customers", "EXPLAIN DELETE FROM audit.log",
                "EXPLAIN SELECT * FROM customers FOR UPDATE", "EXPLAIN ANALYZE SELECT count(*) FROM customers",
                "EXPLAIN (ANALYZE, BUFFERS) SELECT 1", "EXPLAIN (ANALYZE off) UPDATE customers SET name = name",
                "EXPLAIN (ANALYZE false, COSTS off) DELETE FROM audit.log", "EXPLAIN VERBOSE SELECT 1",
                "EXPLAIN SELECT nextval('billing.invoice_no_seq')",
                "EXPLAIN MERGE INTO products p USING order_items s ON p.id = s.product_id WHEN MATCHED THEN"
                        + " UPDATE SET stock = p.stock + s.qty");
        primary("EXPLAIN ANALYZE DELETE FROM audit.log WHERE false", "EXPLAIN (ANALYZE) UPDATE t SET a = 1",
                "EXPLAIN (ANALYZE true, FORMAT YAML) UPDATE t SET a = 1", "EXPLAIN (ANALYZE on) INSERT INTO t VALUES (1)",
                "EXPLAIN (ANALYZE 1) INSERT INTO t VALUES (1)", "EXPLAIN (ANALYZE 0) INSERT INTO t VALUES (1)",
                "EXPLAIN ANALYZE SELECT * FROM customers FOR UPDATE", "EXPLAIN ANALYZE SELECT nextval('s')",
                "EXPLAIN ANALYZE CREATE TABLE e AS SELECT 1", "EXPLAIN ANALYZE EXECUTE q(1)",
                "EXPLAIN SELECT * FROM session_cache", "EXPLAIN SELECT * FROM cache_view");
    }

    @Test
    void copy() {
        replica("COPY customers TO STDOUT", "COPY customers (id, email) TO STDOUT WITH (FORMAT csv)",
                "COPY (SELECT * FROM customers) TO STDOUT", "COPY (VALUES (1)) TO STDOUT (FORMAT binary)");
        primary("COPY customers FROM STDIN", "COPY customers TO '/tmp/x'", "COPY customers TO PROGRAM 'cat'",
                "COPY (SELECT 1) TO '/dev/null'", "COPY (SELECT * FROM customers FOR UPDATE) TO STDOUT",
                "COPY (UPDATE customers SET name = name RETURNING id) TO STDOUT", "COPY session_cache TO STDOUT",
                "COPY (SELECT nextval('s')) TO STDOUT");
        assertThat(c("COPY customers FROM STDIN").has(Trait.COPY_FROM_STDIN)).isTrue();
        assertThat(c("COPY customers TO STDOUT").has(Trait.COPY_TO_STDOUT)).isTrue();
    }

    @Test
    void lockModes() {
        replica("LOCK customers IN ACCESS SHARE MODE", "LOCK TABLE customers IN ROW SHARE MODE",
                "lock table active_customers in row exclusive mode nowait", "LOCK session_cache IN ACCESS SHARE MODE");
        primary("LOCK customers", "LOCK TABLE customers IN SHARE MODE", "LOCK customers IN SHARE UPDATE EXCLUSIVE MODE",
                "LOCK customers IN SHARE ROW EXCLUSIVE MODE", "LOCK customers IN EXCLUSIVE MODE",
                "LOCK customers IN ACCESS EXCLUSIVE MODE", "LOCK nosuchtable IN ACCESS SHARE MODE");
        assertThat(c("LOCK customers IN ACCESS SHARE MODE").has(Trait.LOCK)).isTrue();
    }

    @Test
    void transactions() {
        replica("BEGIN READ ONLY", "START TRANSACTION READ ONLY", "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
                "COMMIT", "END", "ROLLBACK", "ABORT", "COMMIT AND CHAIN", "SAVEPOINT s", "RELEASE SAVEPOINT s",
                "ROLLBACK TO SAVEPOINT s", "SET TRANSACTION READ ONLY",
                "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
        primary("BEGIN", "BEGIN TRANSACTION", "START TRANSACTION", "BEGIN READ WRITE",
                "BEGIN ISOLATION LEVEL SERIALIZABLE", "BEGIN ISOLATION LEVEL SERIALIZABLE, READ ONLY, DEFERRABLE",
                "START TRANSACTION READ ONLY ISOLATION LEVEL SERIALIZABLE", "SET TRANSACTION READ WRITE",
                "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", "SET TRANSACTION ISOLATION LEVEL READ COMMITTED, READ WRITE",
                "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", "PREPARE TRANSACTION 'x'",
                "COMMIT PREPARED 'x'", "ROLLBACK PREPARED 'x'", "SET TRANSACTION SNAPSHOT '0000-1'");
        TransactionModes readOnly = new TransactionModes(TransactionModes.Access.READ_ONLY,
                TransactionModes.Isolation.DEFAULT, TransactionModes.Deferrable.DEFAULT);
        assertThat(effects("BEGIN READ ONLY")).containsExactly(new SessionEffect.Begin(readOnly));
        assertThat(c("BEGIN").kind()).isEqualTo(StatementKind.TRANSACTION);
        assertThat(effects("ROLLBACK TO s")).containsExactly(new SessionEffect.RollbackToSavepoint("s"));
        assertThat(effects("SAVEPOINT \"S1\"")).containsExactly(new SessionEffect.Savepoint("S1"));
        assertThat(effects("RELEASE s")).containsExactly(new SessionEffect.ReleaseSavepoint("s"));
        assertThat(effects("COMMIT")).containsExactly(new SessionEffect.EndTransaction(SessionEffect.Ending.COMMIT, false));
        assertThat(effects("COMMIT AND NO CHAIN"))
                .containsExactly(new SessionEffect.EndTransaction(SessionEffect.Ending.COMMIT, false));
        assertThat(effects("ROLLBACK AND CHAIN"))
                .containsExactly(new SessionEffect.EndTransaction(SessionEffect.Ending.ROLLBACK, true));
        assertThat(effects("PREPARE TRANSACTION 'x'"))
                .containsExactly(new SessionEffect.EndTransaction(SessionEffect.Ending.PREPARE, false));
        assertThat(effects("SET TRANSACTION READ ONLY")).containsExactly(new SessionEffect.SetTransaction(readOnly));
        assertThat(effects("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")).containsExactly(
                new SessionEffect.SetSetting("default_transaction_read_only", SessionEffect.Scope.SESSION,
                        "SET default_transaction_read_only = on"));
    }

    @Test
    void setAndReset() {
        replica("SET work_mem = '64MB'", "SET search_path TO billing, public", "SET LOCAL search_path = audit",
                "RESET ALL", "SET NAMES 'UTF8'", "SET myapp.tenant_id = '42'", "RESET ROLE", "SET ROLE app_reader",
                "SET SESSION AUTHORIZATION app_reader", "SET TIME ZONE 'UTC'", "SET SCHEMA 'audit'",
                "SET work_mem TO DEFAULT", "SET CONSTRAINTS ALL DEFERRED", "SET statement_timeout FROM CURRENT");
        primary("SET transaction_read_only = off", "SET transaction_read_only = on",
                "SET default_transaction_read_only = off", "SET SESSION default_transaction_read_only TO 'on'",
                "SET transaction_isolation = 'serializable'", "SET default_transaction_isolation = 'serializable'");
        for (String s : List.of("SET work_mem = 1", "RESET ALL", "SET LOCAL x.y = 2", "SET ROLE r")) {
            assertThat(c(s).kind()).isEqualTo(StatementKind.SESSION);
        }
        SessionEffect.Scope session = SessionEffect.Scope.SESSION;
        assertThat(effects("SET work_mem = 1"))
                .containsExactly(new SessionEffect.SetSetting("work_mem", session, "SET work_mem = 1"));
        assertThat(effects("SET LOCAL x.y = 2")).containsExactly(
                new SessionEffect.SetSetting("x.y", SessionEffect.Scope.LOCAL, "SET LOCAL x.y = 2"));
        assertThat(effects("SET SESSION ROLE r"))
                .containsExactly(new SessionEffect.SetSetting("role", session, "SET SESSION ROLE r"));
        assertThat(effects("SET SESSION AUTHORIZATION 'u'")).containsExactly(
                new SessionEffect.SetSetting("session_authorization", session, "SET SESSION AUTHORIZATION 'u'"));
        assertThat(effects("RESET ALL")).containsExactly(new SessionEffect.ResetAll());
        assertThat(effects("RESET SESSION AUTHORIZATION"))
                .containsExactly(new SessionEffect.ResetSetting("session_authorization", session));
        assertThat(effects("SET ROLE NONE")).containsExactly(new SessionEffect.ResetSetting("role", session));
        assertThat(effects("SET work_mem TO DEFAULT")).containsExactly(new SessionEffect.ResetSetting("work_mem", session));
        assertThat(effects("SET statement_timeout FROM CURRENT")).isEmpty();
        assertThat(effects("SET pgrelay.route = primary")).containsExactly(
                new SessionEffect.ProxySetting(SessionEffect.ProxySettingOp.SET, "pgrelay.route", "primary"));
        assertThat(effects("SET pgrelay.min_lsn = '0/10'")).containsExactly(
                new SessionEffect.ProxySetting(SessionEffect.ProxySettingOp.SET, "pgrelay.min_lsn", "0/10"));
        assertThat(effects("RESET pgrelay.route")).containsExactly(
                new SessionEffect.ProxySetting(SessionEffect.ProxySettingOp.RESET, "pgrelay.route", null));
        assertThat(effects("SHOW pgrelay.route")).containsExactly(
                new SessionEffect.ProxySetting(SessionEffect.ProxySettingOp.SHOW, "pgrelay.route", null));
        replica("SHOW work_mem", "SHOW TIME ZONE");
        primary("SHOW ALL", "SHOW transaction_read_only", "SHOW in_hot_standby");
    }

    @Test
    void preparedStatementsCursorsAndSessionStatements() {
        replica("PREPARE q AS SELECT * FROM customers WHERE id = $1", "PREPARE q(int) AS SELECT $1",
                "DEALLOCATE q", "DEALLOCATE PREPARE ALL",
                "DECLARE c CURSOR FOR SELECT * FROM orders", "DECLARE c SCROLL CURSOR WITHOUT HOLD FOR SELECT 1");
        primary("PREPARE q AS UPDATE t SET a = 1", "PREPARE q AS SELECT * FROM customers FOR UPDATE", "EXECUTE q",
                "EXECUTE q(1, 'x')", "FETCH NEXT FROM c", "MOVE LAST IN c", "fetch 1 from c", "CLOSE c",
                "DECLARE c CURSOR WITH HOLD FOR SELECT 1", "DECLARE c NO SCROLL CURSOR FOR SELECT * FROM orders FOR UPDATE",
                "DECLARE c CURSOR FOR SELECT nextval('s')", "DISCARD ALL", "DISCARD TEMP", "DISCARD SEQUENCES",
                "DISCARD PLANS");
        assertThat(effects("EXECUTE q")).containsExactly(new SessionEffect.Execute("q"));
        assertThat(c("EXECUTE q").has(Trait.SESSION_OBJECT)).isTrue();
        assertThat(c("EXECUTE q").statements().get(0).route()).as("the rest of EXECUTE").isEqualTo(Route.REPLICA);
        assertThat(c("EXECUTE q(nextval('s'))").statements().get(0).route()).isEqualTo(Route.PRIMARY);
        assertThat(effects("FETCH ALL IN c")).containsExactly(new SessionEffect.Fetch("c"));
        assertThat(effects("DECLARE c CURSOR WITH HOLD FOR SELECT 1"))
                .containsExactly(new SessionEffect.DeclareCursor("c", true));
        assertThat(effects("CLOSE ALL")).containsExactly(new SessionEffect.CloseCursor(null));
        assertThat(effects("LISTEN x")).containsExactly(new SessionEffect.Listen("x"));
        assertThat(effects("UNLISTEN *")).containsExactly(new SessionEffect.Unlisten(null));
        assertThat(c("NOTIFY x").has(Trait.NOTIFY)).isTrue();
        assertThat(effects("DISCARD ALL")).containsExactly(new SessionEffect.Discard(SessionEffect.DiscardScope.ALL));
        assertThat(effects("DISCARD TEMPORARY"))
                .containsExactly(new SessionEffect.Discard(SessionEffect.DiscardScope.TEMP));
        assertThat(effects("DEALLOCATE ALL")).containsExactly(new SessionEffect.Deallocate(null));
        assertThat(effects("CREATE TEMP TABLE r AS EXECUTE q5(200, 'x')"))
                .containsExactly(new SessionEffect.CreateTemporaryObject(), new SessionEffect.Execute("q5"));
        assertThat(effects("EXPLAIN EXECUTE q(1)")).containsExactly(new SessionEffect.Execute("q"));
        SessionEffect.Prepare prepare = (SessionEffect.Prepare) effects("PREPARE q(int) AS SELECT $1").get(0);
        assertThat(prepare.name()).isEqualTo("q");
        assertThat(prepare.replaySql()).isEqualTo("PREPARE q(int) AS SELECT $1");
        assertThat(prepare.statement().route()).isEqualTo(Route.REPLICA);
        assertThat(c("PREPARE q AS SELECT 1").kind()).isEqualTo(StatementKind.SESSION);
    }

    @Test
    void tempObjects() {
        for (String s : List.of("CREATE TEMP TABLE t (x int)", "CREATE TEMPORARY TABLE t (x int) ON COMMIT DROP",
                "CREATE TEMP VIEW v AS SELECT 1", "create local temporary table t (x int)",
                "CREATE TABLE pg_temp.t (x int)", "CREATE OR REPLACE TEMP VIEW v AS SELECT 1",
                "create temp table t as select 1")) {
            assertThat(c(s).route()).as(s).isEqualTo(Route.PRIMARY);
            assertThat(hasEffect(s, SessionEffect.CreateTemporaryObject.class)).as(s).isTrue();
        }
        assertThat(hasEffect("CREATE TABLE t (x int)", SessionEffect.CreateTemporaryObject.class)).isFalse();
        primary("SELECT * FROM pg_temp.t");
    }

    @Test
    void functions() {
        primary("SELECT nextval('s')", "SELECT setval('s', 1)", "SELECT currval('s')", "SELECT lastval()",
                "SELECT pg_catalog.nextval('s')", "SELECT \"nextval\"('s')", "SeLeCt NeXtVaL('s')",
                "SELECT pg_advisory_lock(1)", "SELECT pg_try_advisory_xact_lock(1)", "SELECT pg_advisory_unlock_all()",
                "SELECT txid_current()", "SELECT pg_current_xact_id()", "SELECT pg_current_wal_lsn()",
                "SELECT pg_notify('c', 'x')", "SELECT lo_creat(-1)", "SELECT lo_unlink(1)", "SELECT lo_open(1, 262144)",
                "SELECT lo_import('/etc/passwd')", "SELECT set_config('a.b', 'c', false)",
                "SELECT pg_cancel_backend(1)", "SELECT pg_terminate_backend(1)", "SELECT pg_reload_conf()",
                "SELECT pg_stat_reset()", "SELECT pg_switch_wal()", "SELECT pg_promote()", "SELECT pg_rotate_logfile()",
                "SELECT pg_create_physical_replication_slot('s')", "SELECT pg_replication_origin_create('o')",
                "SELECT pg_log_backend_memory_contexts(1)", "SELECT pg_backup_start('x')",
                "SELECT table_to_xml('next_invoice', true, false, '')", "SELECT query_to_xml('select 1', true, false, '')",
                "SELECT 1 + adjust_stock(2, 0)", "SELECT coalesce(audit.log_event('x'), 0)",
                "SELECT * FROM customers WHERE id = (SELECT place_order(1, 2, 3))", "SELECT peek_next_invoice()",
                "SELECT calls_peek()", "SELECT read_cache('k')", "SELECT c_volatile()", "SELECT unknown_fn()",
                "SELECT exec_sql('SELECT 1')", "SELECT try_log('x')", "SELECT maybe_log(false)",
                "SELECT c.id, code FROM customers c, LATERAL issue_codes(1) AS code", "SELECT 1 @+@ 2",
                "SELECT EXISTS (SELECT issue_codes(1))", "SELECT set_tenant('t')",
                "SELECT DISTINCT ON (id) audit.log_event('x') FROM customers",
                "SELECT 1 OPERATOR(pg_catalog.+) nextval('s')", "SELECT * FROM customers c, nextval('s') n(v)");
        replica("SELECT random(), clock_timestamp(), gen_random_uuid(), timeofday()", "SELECT pg_sleep(0)",
                "SELECT lo_get(1)", "SELECT pg_relation_size('session_cache')",
                "SELECT current_setting('work_mem')", "SELECT add_tax(10)", "SELECT product_price('x')",
                "SELECT * FROM orders_for(2)", "SELECT random_customer()", "SELECT c_stable()", "SELECT my_sum(id) FROM orders",
                "SELECT 1 ~~~ 2", "SELECT left('abc', 1), right('abc', 1)", "SELECT coalesce(1, 2), greatest(1, 2)",
                "SELECT pg_current_xact_id_if_assigned()");
        assertThat(effects("SELECT pg_advisory_lock(1)")).containsExactly(new SessionEffect.TakeAdvisoryLock());
        assertThat(effects("SELECT pg_advisory_unlock(1)")).containsExactly(new SessionEffect.ReleaseAdvisoryLocks(false));
        assertThat(effects("SELECT pg_advisory_unlock_all()")).containsExactly(new SessionEffect.ReleaseAdvisoryLocks(true));
        assertThat(effects("SELECT set_config('A.b', 'c', false)")).containsExactly(new SessionEffect.SetSetting("a.b",
                SessionEffect.Scope.SESSION, "SELECT pg_catalog.set_config(E'a.b', E'c', false)"));
        assertThat(effects("SELECT set_config('a.b', current_user, true)"))
                .containsExactly(new SessionEffect.UntrackedSetting("set_config() with computed arguments"));
        assertThat(effects("SELECT pg_cancel_backend(12)"))
                .containsExactly(new SessionEffect.SignalBackend(SessionEffect.Signal.CANCEL, "12"));
        assertThat(effects("select pg_catalog.pg_terminate_backend(34, 500) AS killed"))
                .containsExactly(new SessionEffect.SignalBackend(SessionEffect.Signal.TERMINATE, "34"));
        assertThat(c("SELECT pg_terminate_backend(56)").statements().get(0).route()).isEqualTo(Route.PRIMARY);
        assertThat(effects("SELECT pg_terminate_backend(pid) FROM pg_stat_activity")).isEmpty();
        assertThat(c("SELECT nextval('s')").kind()).isEqualTo(StatementKind.WRITE);
    }

    @Test
    void literalsNeverDecide() {
        // the same statement shape with different literal values is routed the same way
        primary("SELECT lo_open(1, 131072)", "SELECT lo_open(1, 262144)", "SELECT exec_sql('DELETE FROM t')",
                "SELECT nextval('s') LIMIT 0");
        replica("SELECT 'nextval(1)', $$DELETE$$, E'UPDATE x'", "SELECT * FROM customers WHERE name = 'session_cache'");
    }

    @Test
    void codeThatNeverRuns() {
        replica("SELECT audit.log_event('never') WHERE false", "SELECT CASE WHEN false THEN audit.log_event('x') END",
                "SELECT CASE WHEN null THEN nextval('s') ELSE 1 END", "SELECT EXISTS (SELECT audit.log_event('x'))",
                "SELECT 1 WHERE NOT EXISTS (SELECT nextval('s') FROM customers)", "SELECT coalesce(1, nextval('s'))",
                "SELECT coalesce('x', audit.log_event('x'), nextval('s'))",
                "SELECT CASE WHEN true THEN 1 WHEN id > 1 THEN nextval('s') ELSE nextval('s') END FROM customers");
        primary("SELECT audit.log_event('x') WHERE true", "SELECT CASE WHEN true THEN audit.log_event('x') END",
                "SELECT CASE x WHEN false THEN nextval('s') END FROM customers",
                "SELECT CASE WHEN false THEN 1 ELSE nextval('s') END",
                "SELECT count(*), audit.log_event('x') FROM customers WHERE false",
                "SELECT EXISTS (SELECT audit.log_event('x') LIMIT 1)", "SELECT EXISTS (SELECT count(nextval('s')))",
                "SELECT * FROM session_cache WHERE false", "SELECT audit.log_event('x') WHERE false OR true",
                "SELECT coalesce(NULL, nextval('s'))", "SELECT coalesce(id, nextval('s')) FROM customers",
                "SELECT coalesce(nextval('s'), 1)", "SELECT pg_advisory_lock(1) WHERE false",
                "SELECT CASE WHEN false THEN set_config('a.b', 'c', false) END", "SELECT EXISTS (SELECT pg_cancel_backend(1))", "SELECT CASE WHEN id > 1 THEN 1 WHEN true THEN nextval('s') END FROM customers");
    }

    @Test
    void catalogRelations() {
        primary("SELECT * FROM session_cache", "SELECT c.id FROM customers c LEFT JOIN session_cache s ON s.key = c.email",
                "SELECT EXISTS (SELECT 1 FROM session_cache)", "SELECT * FROM cache_view", "SELECT * FROM next_invoice",
                "SELECT count(*) FROM product_catalog_logged", "SELECT * FROM view_of_view", "SELECT * FROM metrics",
                "SELECT * FROM stock_updates", "SELECT * FROM public.session_cache", "SELECT * FROM nosuchtable",
                "TABLE session_cache", "SELECT * FROM customers, LATERAL (SELECT * FROM session_cache) s",
                "WITH session_cache AS (SELECT * FROM session_cache) SELECT * FROM session_cache",
                "WITH a AS (SELECT * FROM next_invoice), next_invoice AS (SELECT 1) SELECT * FROM a",
                "SELECT * FROM (WITH next_invoice AS (SELECT 1) SELECT * FROM next_invoice) a, next_invoice");
        replica("WITH session_cache AS (SELECT 1 AS key) SELECT * FROM session_cache",
                "WITH RECURSIVE next_invoice(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM next_invoice WHERE n < 3)"
                        + " SELECT * FROM next_invoice");
        replica("SELECT * FROM customer_order_summary", "SELECT * FROM active_customers", "SELECT * FROM events",
                "SELECT * FROM \"order\"", "SELECT * FROM \"select\" WHERE \"where\" = 'x'",
                "SELECT session_cache FROM (SELECT 1 AS session_cache) s");
        assertThat(c("SELECT * FROM session_cache").reason()).contains("unlogged table session_cache");
    }

    @Test
    void builtinCatalogIsConservative() {
        assertThat(BUILTIN.classify("SELECT * FROM customers", true).route()).isEqualTo(Route.PRIMARY);
        assertThat(BUILTIN.classify("SELECT my_function()", true).route()).isEqualTo(Route.PRIMARY);
        assertThat(BUILTIN.classify("SELECT * FROM pg_class", true).route()).isEqualTo(Route.REPLICA);
        assertThat(BUILTIN.classify("SELECT now(), version()", true).route()).isEqualTo(Route.REPLICA);
    }

    @Test
    void doBlocks() {
        replica("DO $$ BEGIN RAISE NOTICE 'DELETE FROM customers'; END $$", "do 'begin null; end'",
                "DO LANGUAGE plpgsql $$ DECLARE n int; BEGIN SELECT count(*) INTO n FROM customers; END $$");
        primary("DO $$ BEGIN UPDATE products SET stock = stock; END $$", "DO $$ BEGIN CREATE TEMP TABLE t (x int); END $$",
                "DO $$ BEGIN PERFORM pg_advisory_xact_lock(7); END $$",
                "DO $do$ BEGIN PERFORM * FROM customers WHERE id = 1 FOR UPDATE; END $do$",
                "DO $$ BEGIN EXECUTE 'SELECT 1'; END $$", "DO LANGUAGE plperl $$ 1 $$",
                "DO $$ BEGIN PERFORM nextval('s'); END $$", "DO $$ BEGIN PERFORM * FROM session_cache; END $$");
    }

    @Test
    void callProcedures() {
        replica("CALL count_orders()");
        primary("CALL close_paid_orders(now())", "CALL unknown_proc()", "CALL count_orders(nextval('s'))");
        assertThat(BUILTIN.classify("CALL count_orders()", true).route()).isEqualTo(Route.PRIMARY);
    }

    @Test
    void mergeThatDoesNothing() {
        replica("MERGE INTO customers c USING (SELECT 1 AS id) s ON c.id = s.id WHEN MATCHED THEN DO NOTHING");
        primary("MERGE INTO customers c USING (SELECT 1 AS id) s ON c.id = s.id WHEN MATCHED THEN DO NOTHING"
                + " WHEN NOT MATCHED THEN INSERT DEFAULT VALUES");
    }

    @Test
    void multiStatementStrings() {
        Classification m = c("SELECT 1; UPDATE customers SET name = name WHERE id = 1");
        assertThat(m.route()).isEqualTo(Route.PRIMARY);
        assertThat(m.kind()).isEqualTo(StatementKind.WRITE);
        assertThat(m.statementCount()).isEqualTo(2);
        assertThat(m.has(Trait.MULTI)).isTrue();
        replica("SELECT 1;\nSELECT 2;\nSELECT 3;", ";;SELECT 1;;", "SELECT 'a;b'; SELECT $$;DELETE$$",
                "BEGIN; DECLARE mc CURSOR FOR SELECT 1; FETCH mc; COMMIT",
                "PREPARE p AS SELECT 1; EXECUTE p; DEALLOCATE p", "BEGIN; SELECT * FROM customers; ROLLBACK");
        primary("SELECT 1; LISTEN chan", "BEGIN; INSERT INTO t VALUES (1); COMMIT", "BEGIN; SELECT 1",
                "BEGIN; SELECT nextval('s'); COMMIT", "PREPARE p AS UPDATE t SET a = 1; EXECUTE p",
                "BEGIN; DECLARE c CURSOR FOR SELECT nextval('s'); FETCH c; COMMIT", "SELECT 1; COMMIT AND CHAIN; BEGIN",
                "/* outer /* inner */ SELECT 1; */ UPDATE customers SET name = name WHERE id = 1");
        Classification e = c(";");
        assertThat(e.has(Trait.EMPTY)).isTrue();
        assertThat(e.statementCount()).isZero();
        assertThat(c("-- only a comment").has(Trait.EMPTY)).isTrue();
        assertThat(c("BEGIN; SELECT 1; COMMIT").kind()).isEqualTo(StatementKind.TRANSACTION);
    }

    @Test
    void hintsAndLimits() {
        Classification h = c("/* pgrelay:primary */ SELECT 1");
        assertThat(h.route()).isEqualTo(Route.PRIMARY);
        assertThat(h.has(Trait.HINT_PRIMARY)).isTrue();
        assertThat(h.kind()).isEqualTo(StatementKind.READ);
        Classifier small = new Classifier(TestCatalogs.shop(), ClassifierConfig.defaults().withMaxStatementLength(10));
        Classification tooLong = small.classify("SELECT 1 + 1 + 1", true);
        assertThat(tooLong.route()).isEqualTo(Route.PRIMARY);
        assertThat(tooLong.reason()).isEqualTo("statement too long");
        assertThat(c("SELECT 'unterminated").route()).isEqualTo(Route.PRIMARY);
        assertThat(c("SELECT (1").route()).isEqualTo(Route.PRIMARY);
    }

    @Test
    void aStatementLongOnlyBecauseOfItsLiteralsIsAnalysedOnItsFingerprint() {
        Classifier small = new Classifier(TestCatalogs.shop(), ClassifierConfig.defaults().withMaxStatementLength(64));
        String bigLiteral = "SELECT * FROM products WHERE name = '" + "x".repeat(100_000) + "'";
        Classification read = small.classify(bigLiteral, true);
        assertThat(read.route()).isEqualTo(Route.REPLICA);
        assertThat(read.has(Trait.TOO_LONG)).isFalse();
        // the same fingerprint with another literal comes from the cache
        long hits = small.cacheHits();
        assertThat(small.classify("SELECT * FROM products WHERE name = 'y'", true).route()).isEqualTo(Route.REPLICA);
        assertThat(small.cacheHits()).isEqualTo(hits + 1);
        assertThat(small.classify("INSERT INTO products (name) VALUES ('" + "x".repeat(100_000) + "')", true).route())
                .isEqualTo(Route.PRIMARY);
        // long because of its structure: not analysed
        String wide = "SELECT " + "name, ".repeat(20) + "name FROM products";
        assertThat(small.classify(wide, true).has(Trait.TOO_LONG)).isTrue();
        // a DO body is code: it counts in full
        assertThat(small.classify("DO $$BEGIN " + "PERFORM 1; ".repeat(10) + "END$$", true).has(Trait.TOO_LONG))
                .isTrue();
        // past the scan bound nothing is lexed
        Classifier bounded = new Classifier(TestCatalogs.shop(),
                ClassifierConfig.defaults().withMaxStatementLength(64).withMaxScanLength(1000));
        assertThat(bounded.classify(bigLiteral, true).has(Trait.TOO_LONG)).isTrue();
    }

    @Test
    void serverLocalReadsGoToThePrimary() {
        primary("SELECT * FROM pg_stat_activity", "SELECT * FROM pg_catalog.pg_stat_wal_receiver",
                "SELECT funcname, calls FROM pg_stat_user_functions", "SELECT * FROM pg_statio_user_tables",
                "SELECT * FROM pg_locks", "SELECT * FROM pg_stat_replication", "SELECT * FROM pg_replication_slots",
                "SELECT * FROM pg_prepared_xacts", "SELECT * FROM pg_settings", "SELECT pg_is_in_recovery()",
                "SELECT pg_last_wal_replay_lsn()", "SELECT txid_current_snapshot()",
                "SELECT pg_sequence_last_value('s')", "SELECT pg_stat_clear_snapshot()",
                "SELECT pg_notification_queue_usage()", "SELECT * FROM pg_ls_waldir()",
                "SELECT pg_stat_get_numscans('customers'::regclass)", "SELECT pg_postmaster_start_time()",
                "SELECT inet_server_port()", "SELECT count(*) FROM customers c JOIN pg_stat_user_tables s ON true",
                "SELECT * FROM pg_prepared_statements", "SELECT * FROM pg_cursors", "SELECT pg_backend_pid()");
        assertThat(c("SELECT * FROM pg_stat_activity").kind()).isEqualTo(StatementKind.READ);
        assertThat(c("SELECT name FROM pg_prepared_statements").has(Trait.SESSION_OBJECTS_READ)).isTrue();
        assertThat(effects("SELECT pg_backend_pid()")).containsExactly(new SessionEffect.BackendPid());
        assertThat(effects("SELECT pg_backend_pid() AS pid")).containsExactly(new SessionEffect.BackendPid());
        assertThat(effects("SELECT pg_backend_pid() + 0")).isEmpty();
        replica("SELECT * FROM pg_stats", "SELECT * FROM pg_statistic", "SELECT * FROM pg_class",
                "EXPLAIN SELECT * FROM pg_stat_activity");
    }

    @Test
    void configOverrides() {
        ClassifierConfig cfg = new ClassifierConfig(100, 1000, 1000, List.of("audit.is_allowed", "now"),
                List.of("c_volatile", "billing.next_invoice_no"), false);
        Classifier o = new Classifier(TestCatalogs.shop(), cfg);
        assertThat(o.classify("SELECT now()", true).route()).isEqualTo(Route.PRIMARY);
        assertThat(o.classify("SELECT audit.is_allowed()", true).route()).isEqualTo(Route.PRIMARY);
        assertThat(o.classify("SELECT is_allowed()", true).route()).isEqualTo(Route.PRIMARY);
        assertThat(o.classify("SELECT c_volatile()", true).route()).isEqualTo(Route.REPLICA);
        assertThat(o.classify("SELECT billing.next_invoice_no()", true).route()).isEqualTo(Route.REPLICA);
    }

    @ParameterizedTest
    @ValueSource(strings = {"SELECT 1 AS \"select; DELETE FROM customers\"", "SELECT U&'\\0044ELETE' AS s",
            "SELECT E'\\'; UPDATE customers SET name = name; --' AS s", "SELECT 'a'\n'continued'",
            "SELECT '‘smart quotes’ — dash' AS s", "/* Kommentar: löschen ✓ */ SELECT 1", "\u000cSELECT 1",
            "SELECT \"update\", \"insert\", \"delete\" FROM \"order\""})
    void lexicalTrapsAreReads(String sql) {
        replica(sql);
    }
}
