package io.pgrelay.core.classify;

/**
 * What the catalog knows about a relation name (all schemas merged when unqualified).
 *
 * @param name   the relation's (qualified) name
 * @param hazard NONE, UNLOGGED or UNSAFE_VIEW
 * @param reason human text, e.g. "unlogged table session_cache"
 * @param planHazard even planning it fails on a standby (an unlogged table, a view over one): plain
 *                   EXPLAIN must go to the primary too
 */
public record RelationInfo(String name, Hazard hazard, String reason, boolean planHazard) {
    public RelationInfo(String name, Hazard hazard, String reason) {
        this(name, hazard, reason, hazard != Hazard.NONE);
    }

    public static RelationInfo safe(String name) {
        return new RelationInfo(name, Hazard.NONE, "", false);
    }

    RelationInfo merge(RelationInfo other) {
        if (other == null || other.hazard == Hazard.NONE) {
            return this;
        }
        if (hazard == Hazard.NONE) {
            return other;
        }
        return planHazard || !other.planHazard ? this : new RelationInfo(name, hazard, reason, true);
    }
}
