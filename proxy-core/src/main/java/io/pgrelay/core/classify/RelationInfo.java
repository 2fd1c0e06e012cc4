package io.pgrelay.core.classify;

/**
 * What the catalog knows about a relation name (all schemas merged when unqualified).
 *
 * @param name   the relation's (qualified) name
 * @param hazard NONE, UNLOGGED or UNSAFE_VIEW
 * @param reason human text, e.g. "unlogged table session_cache"
 */
public record RelationInfo(String name, Hazard hazard, String reason) {
    public static RelationInfo safe(String name) {
        return new RelationInfo(name, Hazard.NONE, "");
    }

    RelationInfo merge(RelationInfo other) {
        if (other == null || other.hazard == Hazard.NONE) {
            return this;
        }
        return hazard == Hazard.NONE ? other : this;
    }
}
