package io.pgrelay.core.classify;

/**
 * Catalog facts the classifier needs: function hazards (volatility, writes hidden in bodies),
 * relation hazards (unlogged tables, unsafe views) and user-defined operators. Name resolution is
 * conservative: an unqualified name is as hazardous as the worst object of that name in any schema
 * (search_path is not tracked).
 *
 * <p>Implementations are immutable snapshots; a new catalog state is a new object, so the
 * classifier drops its cache when the object it sees changes.
 */
public interface Catalog {
    /** The function {@code schema.name} ({@code schema} null when unqualified); null when unknown. */
    FunctionInfo function(String schema, String name);

    /** The relation {@code schema.name} ({@code schema} null when unqualified); null when unknown. */
    RelationInfo relation(String schema, String name);

    /** True when some hazardous relation (any schema) has this unqualified name. */
    boolean isHazardousRelationName(String name);

    /** The hazard of a user-defined operator symbol, or null when it is a built-in operator (safe); UNKNOWN when unknown. */
    FunctionInfo operator(String symbol);

    /** True for a catalog loaded from a live primary; false for the built-in defaults. */
    boolean live();

    /** A short description for logs and the CLI. */
    String describe();
}
