package io.pgrelay.core.classify;

import io.pgrelay.core.classify.CatalogSnapshot.RawFunction;
import io.pgrelay.core.classify.CatalogSnapshot.RawInherit;
import io.pgrelay.core.classify.CatalogSnapshot.RawOperator;
import io.pgrelay.core.classify.CatalogSnapshot.RawPolicy;
import io.pgrelay.core.classify.CatalogSnapshot.RawRelation;
import io.pgrelay.core.classify.CatalogSnapshot.RawView;

import java.util.ArrayList;
import java.util.List;

/** A hand-built snapshot mirroring the corpus schema.sql (test-kit; what CatalogLoader would read), plus extras. */
final class TestCatalogs {
    private TestCatalogs() {
    }

    static CatalogSnapshot shop() {
        return shop(true);
    }

    /** The corpus schema; with {@code extras}, more hazards for unit tests (RLS, unlogged partition, ...). */
    static CatalogSnapshot shop(boolean extras) {
        List<RawRelation> rel = new ArrayList<>();
        for (String t : new String[] {"public.customers", "public.products", "public.orders", "public.order_items",
                "billing.invoices", "audit.log", "public.events", "public.events_2024", "public.events_2025",
                "public.events_default", "public.stock_updates", "public.order", "public.select", "public.größen"}) {
            String[] p = t.split("\\.");
            rel.add(new RawRelation(p[0], p[1], 'r', 'p'));
        }
        rel.add(new RawRelation("public", "session_cache", 'r', 'u'));
        rel.add(new RawRelation("public", "sales_by_day", 'm', 'p'));
        rel.add(new RawRelation("billing", "invoice_no_seq", 'S', 'p'));
        // an unlogged partition makes its parent unsafe
        rel.add(new RawRelation("public", "metrics", 'p', 'p'));
        rel.add(new RawRelation("public", "metrics_hot", 'r', 'u'));
        List<RawView> views = new ArrayList<>();
        views.add(new RawView("public", "customer_order_summary", " SELECT c.id, c.name, count(o.id) AS orders,"
                + " COALESCE(sum(o.total), 0::numeric) AS revenue FROM customers c LEFT JOIN orders o ON o.customer_id = c.id"
                + " GROUP BY c.id, c.name;"));
        views.add(new RawView("public", "active_customers", " SELECT customers.id, customers.email, customers.name,"
                + " customers.country FROM customers WHERE customers.is_active;"));
        views.add(new RawView("public", "next_invoice", " SELECT nextval('billing.invoice_no_seq'::regclass) AS invoice_no;"));
        views.add(new RawView("public", "product_catalog_logged", " SELECT p.id, p.sku, p.title,"
                + " audit.log_access('product_catalog_logged'::text) AS access_id FROM products p;"));
        views.add(new RawView("public", "cache_view", " SELECT session_cache.key, session_cache.value FROM session_cache"
                + " WHERE session_cache.expires_at > now();"));
        views.add(new RawView("public", "locked_orders", " SELECT orders.id FROM orders FOR UPDATE;"));
        views.add(new RawView("public", "view_of_view", " SELECT next_invoice.invoice_no FROM next_invoice;"));
        for (RawView v : views) {
            rel.add(new RawRelation(v.schema(), v.name(), 'v', 'p'));
        }
        List<RawFunction> fn = new ArrayList<>();
        fn.add(sql("public", "add_tax", 'i', " SELECT round(amount * (1 + rate), 2) "));
        fn.add(sql("public", "customer_order_count", 's', " SELECT count(*) FROM orders WHERE customer_id = cid "));
        fn.add(pl("public", "product_price", 's', "\nDECLARE v numeric;\nBEGIN\n  SELECT price INTO v FROM products"
                + " WHERE sku = p_sku;\n  RETURN v;\nEND "));
        fn.add(sql("public", "orders_for", 's', " SELECT * FROM orders WHERE customer_id = cid ORDER BY id "));
        fn.add(sql("public", "random_customer", 'v', " SELECT id FROM customers ORDER BY random() LIMIT 1 "));
        fn.add(pl("audit", "log_event", 'v', "\nDECLARE v_id bigint;\nBEGIN\n  INSERT INTO audit.log (action, payload)"
                + " VALUES (p_action, p_payload) RETURNING id INTO v_id;\n  RETURN v_id;\nEND "));
        fn.add(sql("audit", "log_access", 'v', " INSERT INTO audit.log (action, payload) VALUES ('access',"
                + " jsonb_build_object('what', p_what)) RETURNING id "));
        fn.add(sql("public", "adjust_stock", 'v', " UPDATE products SET stock = stock + p_delta WHERE id = p_product"
                + " RETURNING stock "));
        fn.add(sql("billing", "next_invoice_no", 'v', " SELECT nextval('billing.invoice_no_seq') "));
        fn.add(pl("public", "peek_next_invoice", 's', " BEGIN RETURN nextval('billing.invoice_no_seq'); END "));
        fn.add(pl("public", "maybe_log", 'v', "\nBEGIN\n  IF p_really THEN\n    INSERT INTO audit.log (action)"
                + " VALUES ('maybe');\n    RETURN 'logged';\n  END IF;\n  RETURN 'skipped';\nEND "));
        fn.add(sql("public", "set_tenant", 'v', " SELECT set_config('app.tenant', p_tenant, false) "));
        fn.add(pl("public", "issue_codes", 'v', "\nBEGIN\n  FOR i IN 1..n LOOP\n    INSERT INTO audit.log (action)"
                + " VALUES ('code');\n    RETURN NEXT md5(i::text);\n  END LOOP;\nEND "));
        fn.add(pl("public", "exec_sql", 'v', " BEGIN EXECUTE q; END "));
        fn.add(pl("public", "try_log", 'v', "\nBEGIN\n  INSERT INTO audit.log (action) VALUES (p_action);\n"
                + "  RETURN true;\nEXCEPTION WHEN read_only_sql_transaction THEN\n  RETURN false;\nEND "));
        fn.add(pl("public", "count_orders", 'v', " BEGIN SELECT count(*) INTO n FROM orders; END ", 'p'));
        fn.add(pl("public", "close_paid_orders", 'v', " BEGIN UPDATE orders SET status = 'shipped' WHERE status ="
                + " 'paid' AND ordered_at < p_before; END ", 'p'));
        fn.add(sql("public", "read_cache", 's', " SELECT value FROM session_cache WHERE key = k "));
        fn.add(sql("public", "calls_peek", 's', " SELECT peek_next_invoice() "));
        fn.add(new RawFunction("public", "c_volatile", 'v', 'f', false, "c", null));
        fn.add(new RawFunction("public", "c_stable", 's', 'f', false, "c", null));
        fn.add(new RawFunction("public", "my_sum", 'i', 'a', false, "internal", null));
        List<RawOperator> ops = List.of(new RawOperator("@+@", "audit", "log_event"),
                new RawOperator("~~~", "public", "add_tax"));
        List<RawInherit> inherits = List.of(new RawInherit("public", "events", "public", "events_2024"),
                new RawInherit("public", "metrics", "public", "metrics_hot"));
        List<RawPolicy> policies = extras
                ? List.of(new RawPolicy("public", "stock_updates", "(audit.log_access('rls'::text) > 0)")) : List.of();
        return CatalogSnapshot.build("corpus", new CatalogSnapshot.Raw(fn, rel, inherits, views, policies, ops));
    }

    private static RawFunction sql(String schema, String name, char vol, String body) {
        return new RawFunction(schema, name, vol, 'f', name.equals("orders_for"), "sql", body);
    }

    private static RawFunction pl(String schema, String name, char vol, String body) {
        return pl(schema, name, vol, body, 'f');
    }

    private static RawFunction pl(String schema, String name, char vol, String body, char kind) {
        return new RawFunction(schema, name, vol, kind, name.equals("issue_codes"), "plpgsql", body);
    }
}
