package io.pgrelay.core.classify;

/**
 * What the catalog knows about a function name (all overloads merged, most hazardous wins).
 *
 * @param name       the function's name (qualified when known)
 * @param hazard     why it may not run on a replica, or NONE
 * @param reason     human text for {@link Classification#reason()}
 * @param aggregate  some overload is an aggregate or window function
 * @param returnsSet some overload returns a set
 * @param volatileDeclared every overload is declared VOLATILE (never evaluated while planning)
 * @param changesSettings  its body changes session settings (SET, set_config()) that outlive the call
 */
public record FunctionInfo(String name, Hazard hazard, String reason, boolean aggregate, boolean returnsSet,
                           boolean volatileDeclared, boolean changesSettings) {
    public FunctionInfo(String name, Hazard hazard, String reason, boolean aggregate, boolean returnsSet,
                        boolean volatileDeclared) {
        this(name, hazard, reason, aggregate, returnsSet, volatileDeclared, false);
    }

    public FunctionInfo(String name, Hazard hazard, String reason, boolean aggregate, boolean returnsSet) {
        this(name, hazard, reason, aggregate, returnsSet, true);
    }

    public static FunctionInfo safe(String name, boolean aggregate, boolean returnsSet) {
        return new FunctionInfo(name, Hazard.NONE, "", aggregate, returnsSet, true);
    }

    FunctionInfo merge(FunctionInfo other) {
        if (other == null) {
            return this;
        }
        FunctionInfo worse = rank(other.hazard) > rank(hazard) ? other : this;
        return new FunctionInfo(worse.name, worse.hazard, worse.reason, aggregate || other.aggregate,
                returnsSet || other.returnsSet, volatileDeclared && other.volatileDeclared,
                changesSettings || other.changesSettings);
    }

    static int rank(Hazard h) {
        switch (h) {
            case NONE: return 0;
            case UNKNOWN: return 1;
            case SET_CONFIG: return 2;
            case VOLATILE: return 3;
            case SESSION_DEPENDENT: return 4;
            case ADVISORY_UNLOCK: return 5;
            case ADVISORY_XACT_LOCK: return 6;
            case ADVISORY_LOCK: return 7;
            case SERVER_LOCAL: return 8;
            case DYNAMIC_SQL: return 9;
            default: return 10;
        }
    }
}
