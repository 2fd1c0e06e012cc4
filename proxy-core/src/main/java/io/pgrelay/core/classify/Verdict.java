package io.pgrelay.core.classify;

import java.util.ArrayList;
import java.util.List;

/** What a token scan found: the strongest hazard decides the route; traits and session effects accumulate. */
final class Verdict {
    Severity severity = Severity.NONE;
    String reason;
    boolean write;
    boolean session;
    Traits traits = Traits.NONE;
    List<SessionEffect> effects = List.of();
    boolean softOnly = true;
    /** Token indexes of set_config() names in the statement's own tokens (not in function bodies). */
    final List<Integer> setConfigCalls = new ArrayList<>(0);

    void hazard(Severity sev, String why, boolean writes) {
        if (sev == Severity.UNKNOWN_RELATION || sev == Severity.UNKNOWN && why.startsWith("unknown ")) {
            trait(Trait.UNKNOWN_NAME);
        }
        if (sev == Severity.SERVER_LOCAL_READ) {
            trait(Trait.SERVER_LOCAL_READ);
        } else if (sev == Severity.DYNAMIC_SQL) {
            trait(Trait.DYNAMIC_SQL);
        }
        if (sev.compareTo(severity) > 0) {
            severity = sev;
            reason = why;
        }
        if (sev.compareTo(Severity.SOFT) > 0) {
            softOnly = false;
        }
        write |= writes;
    }

    void trait(Trait trait) {
        traits = traits.with(trait);
    }

    void effect(SessionEffect effect) {
        if (effects.isEmpty()) {
            effects = new ArrayList<>(2);
        }
        if (!effects.contains(effect)) {
            effects.add(effect);
        }
    }

    boolean primary() {
        return severity != Severity.NONE;
    }
}
