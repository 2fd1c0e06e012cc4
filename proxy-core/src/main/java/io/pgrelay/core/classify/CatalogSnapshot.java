package io.pgrelay.core.classify;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The catalog facts of one database, loaded from its primary by {@link CatalogLoader}: user
 * functions with their hazard, relations (unlogged tables, and tables with unlogged partitions or
 * inheritance children, are unsafe), views classified by their definition, tables whose row-level
 * security policies are unsafe, and user-defined operators. Built-ins come from
 * {@link BuiltinCatalog}.
 *
 * <p>Function hazards: SQL and PL/pgSQL bodies ({@code prosrc}, or the SQL-standard body) are
 * scanned with the classifier's own lexer and analyser — writes (INSERT/UPDATE/DELETE/MERGE/...),
 * locking clauses, dynamic SQL ({@code EXECUTE}), calls of unsafe functions and reads of unsafe
 * relations make a function unsafe whatever its declared volatility (so a STABLE function calling
 * nextval() is a write); other languages follow their volatility (VOLATILE is unsafe). Views and
 * functions depend on each other: the hazards are computed as a least fixpoint.
 *
 * <p>Immutable. {@link #contentHash()} identifies the content, so a refresh that finds nothing
 * changed keeps the old snapshot (and the classifier's cache).
 */
public final class CatalogSnapshot implements Catalog {
    /** A pg_proc row. */
    public record RawFunction(String schema, String name, char volatility, char kind, boolean returnsSet,
                              String language, String body) {
    }

    /** A pg_class row (tables, views, matviews, partitioned and foreign tables, sequences). */
    public record RawRelation(String schema, String name, char kind, char persistence) {
    }

    /** A pg_inherits row (partitions and inheritance children). */
    public record RawInherit(String parentSchema, String parentName, String childSchema, String childName) {
    }

    /** A view definition (pg_get_viewdef). */
    public record RawView(String schema, String name, String definition) {
    }

    /** A row-level security policy expression (USING or WITH CHECK). */
    public record RawPolicy(String schema, String table, String expression) {
    }

    /** A user-defined operator and the function implementing it. */
    public record RawOperator(String symbol, String functionSchema, String functionName) {
    }

    /** Everything {@link CatalogLoader} reads. */
    public record Raw(List<RawFunction> functions, List<RawRelation> relations, List<RawInherit> inherits,
                      List<RawView> views, List<RawPolicy> policies, List<RawOperator> operators) {
    }

    private static final int MAX_ROUNDS = 32;

    private final String database;
    private final String contentHash;
    private final Map<String, FunctionInfo> functionsQualified;
    private final Map<String, FunctionInfo> functionsByName;
    private final Map<String, RelationInfo> relationsQualified;
    private final Map<String, RelationInfo> relationsByName;
    private final Map<String, FunctionInfo> operators;
    private final Set<String> hazardNames;
    private final int functionCount;
    private final int relationCount;

    private CatalogSnapshot(String database, String contentHash, Map<String, FunctionInfo> functionsQualified,
            Map<String, RelationInfo> relationsQualified, Map<String, FunctionInfo> operators) {
        this.database = database;
        this.contentHash = contentHash;
        this.functionsQualified = functionsQualified;
        this.relationsQualified = relationsQualified;
        this.operators = operators;
        this.functionsByName = new HashMap<>();
        for (Map.Entry<String, FunctionInfo> e : functionsQualified.entrySet()) {
            String name = e.getKey().substring(e.getKey().indexOf('.') + 1);
            functionsByName.merge(name, e.getValue(), FunctionInfo::merge);
        }
        this.relationsByName = new HashMap<>();
        this.hazardNames = new HashSet<>();
        for (Map.Entry<String, RelationInfo> e : relationsQualified.entrySet()) {
            String name = e.getKey().substring(e.getKey().indexOf('.') + 1);
            relationsByName.merge(name, e.getValue(), RelationInfo::merge);
            if (e.getValue().hazard() != Hazard.NONE) {
                hazardNames.add(name);
            }
        }
        this.functionCount = functionsQualified.size();
        this.relationCount = relationsQualified.size();
    }

    /** Builds the snapshot of {@code database} from raw catalog rows, computing every hazard. */
    public static CatalogSnapshot build(String database, Raw raw) {
        Map<String, RelationInfo> relations = new HashMap<>();
        for (RawRelation r : raw.relations()) {
            String q = r.schema() + "." + r.name();
            relations.put(q, r.persistence() == 'u'
                    ? new RelationInfo(q, Hazard.UNLOGGED, "unlogged table " + r.name())
                    : RelationInfo.safe(q));
        }
        boolean changed = true;
        while (changed) {
            changed = false;
            for (RawInherit i : raw.inherits()) {
                RelationInfo child = relations.get(i.childSchema() + "." + i.childName());
                String pq = i.parentSchema() + "." + i.parentName();
                RelationInfo parent = relations.get(pq);
                if (child != null && parent != null && child.hazard() == Hazard.UNLOGGED
                        && parent.hazard() == Hazard.NONE) {
                    relations.put(pq, new RelationInfo(pq, Hazard.UNLOGGED, "table " + i.parentName()
                            + " has unlogged partition or child " + i.childName()));
                    changed = true;
                }
            }
        }
        Map<String, FunctionInfo> functions = new HashMap<>();
        Map<String, List<RawFunction>> bodies = new HashMap<>();
        for (RawFunction f : raw.functions()) {
            String q = f.schema() + "." + f.name();
            boolean aggregate = f.kind() == 'a' || f.kind() == 'w';
            boolean analysable = f.body() != null && (f.language().equals("sql") || f.language().equals("plpgsql"))
                    && !aggregate;
            FunctionInfo info;
            boolean vol = f.volatility() == 'v';
            if (analysable) {
                info = new FunctionInfo(q, Hazard.NONE, "", false, f.returnsSet(), vol);
                bodies.computeIfAbsent(q, k -> new ArrayList<>()).add(f);
            } else if (f.volatility() == 'v') {
                info = new FunctionInfo(q, Hazard.VOLATILE, "volatile function " + q + "()", aggregate,
                        f.returnsSet(), true);
            } else {
                info = new FunctionInfo(q, Hazard.NONE, "", aggregate, f.returnsSet(), false);
            }
            functions.merge(q, info, FunctionInfo::merge);
        }
        Map<String, RelationInfo> baseRelations = new HashMap<>(relations);
        Map<String, FunctionInfo> operators = new HashMap<>();
        for (int round = 0; round < MAX_ROUNDS; round++) {
            CatalogSnapshot current = new CatalogSnapshot(database, "", functions, relations,
                    operatorHazards(raw, functions));
            boolean more = false;
            Map<String, FunctionInfo> nextFunctions = new HashMap<>(functions);
            for (Map.Entry<String, List<RawFunction>> e : bodies.entrySet()) {
                FunctionInfo before = functions.get(e.getKey());
                if (before.hazard() != Hazard.NONE) {
                    continue;
                }
                for (RawFunction f : e.getValue()) {
                    Verdict v = StatementAnalyzer.bodyVerdict(f.body(),
                            f.language().equals("plpgsql"), current);
                    Hazard h = hazardOf(v);
                    if (h != Hazard.NONE) {
                        String name = e.getKey();
                        boolean changesSettings = v.effects.stream()
                                .anyMatch(effect -> effect instanceof SessionEffect.UntrackedSetting);
                        nextFunctions.put(name, new FunctionInfo(name, h, "function " + name + "() "
                                + (v.write ? "writes" : "is unsafe") + ": " + v.reason, before.aggregate(),
                                before.returnsSet(), before.volatileDeclared(), changesSettings));
                        more = true;
                        break;
                    }
                }
            }
            Map<String, RelationInfo> nextRelations = new HashMap<>(baseRelations);
            for (RawView view : raw.views()) {
                String q = view.schema() + "." + view.name();
                String why = StatementAnalyzer.unsafeQueryReason(view.definition(), current);
                if (why != null) {
                    boolean plan = StatementAnalyzer.unsafeQueryReason("EXPLAIN " + view.definition(), current) != null;
                    nextRelations.put(q, new RelationInfo(q, Hazard.UNSAFE_VIEW, "view " + view.name() + ": " + why,
                            plan));
                }
            }
            for (RawPolicy p : raw.policies()) {
                String q = p.schema() + "." + p.table();
                if (p.expression() == null || nextRelations.getOrDefault(q, RelationInfo.safe(q)).hazard()
                        != Hazard.NONE) {
                    continue;
                }
                String why = StatementAnalyzer.unsafeQueryReason("SELECT " + p.expression(), current);
                if (why != null) {
                    nextRelations.put(q, new RelationInfo(q, Hazard.UNSAFE_VIEW,
                            "row-level security policy on " + p.table() + ": " + why));
                }
            }
            if (!nextRelations.equals(relations)) {
                more = true;
            }
            functions = nextFunctions;
            relations = nextRelations;
            operators = operatorHazards(raw, functions);
            if (!more) {
                return new CatalogSnapshot(database, hash(raw), functions, relations, operators);
            }
        }
        // no fixpoint (cannot happen: hazards only grow); be conservative about what is still moving
        return new CatalogSnapshot(database, hash(raw), functions, relations, operators);
    }

    private static Hazard hazardOf(Verdict v) {
        if (!v.severity.atLeast(Severity.SET_CONFIG)) {
            return Hazard.NONE;
        }
        if (v.write || v.severity.atLeast(Severity.LOCKING)) {
            return Hazard.WRITE;
        }
        if (v.severity == Severity.DYNAMIC_SQL) {
            return Hazard.DYNAMIC_SQL;
        }
        if (v.severity.atLeast(Severity.SERVER_LOCAL_READ)) {
            return Hazard.SERVER_LOCAL;
        }
        return Hazard.SESSION_DEPENDENT;
    }

    private static Map<String, FunctionInfo> operatorHazards(Raw raw, Map<String, FunctionInfo> functions) {
        Map<String, FunctionInfo> out = new HashMap<>();
        for (RawOperator o : raw.operators()) {
            String q = o.functionSchema() + "." + o.functionName();
            FunctionInfo f = o.functionSchema().equals("pg_catalog")
                    ? BuiltinCatalog.get().function(null, o.functionName()) : functions.get(q);
            FunctionInfo info = f == null
                    ? new FunctionInfo(o.symbol(), Hazard.UNKNOWN, "operator " + o.symbol() + " of unknown function",
                            false, false)
                    : f.hazard() == Hazard.NONE ? FunctionInfo.safe(o.symbol(), false, false)
                    : new FunctionInfo(o.symbol(), f.hazard(), "operator " + o.symbol() + ": " + f.reason(), false,
                            false, f.volatileDeclared());
            out.merge(o.symbol(), info, FunctionInfo::merge);
        }
        return out;
    }

    private static String hash(Raw raw) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (List<?> part : List.of(raw.functions(), raw.relations(), raw.inherits(), raw.views(),
                    raw.policies(), raw.operators())) {
                List<String> rows = new ArrayList<>();
                for (Object o : part) {
                    rows.add(o.toString());
                }
                Collections.sort(rows);
                for (String row : rows) {
                    md.update(row.getBytes(StandardCharsets.UTF_8));
                    md.update((byte) 0);
                }
                md.update((byte) 1);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Identifies the catalog content this snapshot was built from. */
    public String contentHash() {
        return contentHash;
    }

    public String database() {
        return database;
    }

    @Override
    public FunctionInfo function(String schema, String name) {
        BuiltinCatalog builtin = BuiltinCatalog.get();
        if (schema == null) {
            FunctionInfo user = functionsByName.get(name);
            FunctionInfo b = builtin.function(null, name);
            return b == null ? user : user == null ? b : b.merge(user);
        }
        if (schema.equals("pg_catalog")) {
            return builtin.function(null, name);
        }
        return functionsQualified.get(schema + "." + name);
    }

    @Override
    public RelationInfo relation(String schema, String name) {
        BuiltinCatalog builtin = BuiltinCatalog.get();
        if (schema == null) {
            RelationInfo user = relationsByName.get(name);
            RelationInfo b = builtin.relation(null, name);
            return b == null ? user : user == null ? b : b.merge(user);
        }
        if (schema.equals("pg_catalog") || schema.equals("information_schema")) {
            return builtin.relation(schema, name);
        }
        return relationsQualified.get(schema + "." + name);
    }

    @Override
    public boolean isHazardousRelationName(String name) {
        return hazardNames.contains(name);
    }

    @Override
    public FunctionInfo operator(String symbol) {
        FunctionInfo user = operators.get(symbol);
        if (user != null) {
            return user.hazard() == Hazard.NONE ? null : user;
        }
        return BuiltinCatalog.get().operator(symbol);
    }

    @Override
    public boolean live() {
        return true;
    }

    @Override
    public String describe() {
        long unsafeFunctions = functionsQualified.values().stream().filter(f -> f.hazard() != Hazard.NONE).count();
        long unsafeRelations = relationsQualified.values().stream().filter(r -> r.hazard() != Hazard.NONE).count();
        return "catalog of database " + database + ": " + functionCount + " functions (" + unsafeFunctions
                + " unsafe), " + relationCount + " relations (" + unsafeRelations + " unsafe)";
    }

    /** Unsafe user functions and relations with their reasons (for logs and tests). */
    public Map<String, String> hazards() {
        Map<String, String> out = new java.util.TreeMap<>();
        functionsQualified.forEach((k, v) -> {
            if (v.hazard() != Hazard.NONE) {
                out.put(k + "()", v.reason());
            }
        });
        relationsQualified.forEach((k, v) -> {
            if (v.hazard() != Hazard.NONE) {
                out.put(k, v.reason());
            }
        });
        return out;
    }
}
