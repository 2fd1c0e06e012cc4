package io.pgrelay.core.session;

import java.util.Locale;

/** What a session's reads must see: {@code routing.consistency} / {@code pgrelay.consistency}. */
enum Consistency {
    /** Any replica within the lag bounds. */
    EVENTUAL,
    /** Read-your-writes: the session's own writes (and any {@code pgrelay.min_lsn}). */
    CAUSAL,
    /** Every write committed anywhere before the read began: the primary's position at the read's start. */
    GLOBAL;

    /** The mode named {@code value}, or null when there is none such. */
    static Consistency parse(String value) {
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "eventual" -> EVENTUAL;
            case "causal" -> CAUSAL;
            case "global" -> GLOBAL;
            default -> null;
        };
    }

    String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Whether the session learns the position of its own writes (for routing, and SHOW pgrelay.last_lsn). */
    boolean tracksWrites() {
        return this != EVENTUAL;
    }
}
