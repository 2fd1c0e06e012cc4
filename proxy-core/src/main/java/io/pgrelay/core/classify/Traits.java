package io.pgrelay.core.classify;

import java.util.ArrayList;
import java.util.List;

/** An immutable set of {@link Trait}s: a value, cheap to test and to combine. */
public final class Traits {
    public static final Traits NONE = new Traits(0);

    private static final Trait[] ALL = Trait.values();
    private final long bits;

    private Traits(long bits) {
        this.bits = bits;
    }

    public static Traits of(Trait... traits) {
        long bits = 0;
        for (Trait trait : traits) {
            bits |= bit(trait);
        }
        return bits == 0 ? NONE : new Traits(bits);
    }

    private static long bit(Trait trait) {
        return 1L << trait.ordinal();
    }

    public boolean has(Trait trait) {
        return (bits & bit(trait)) != 0;
    }

    public boolean isEmpty() {
        return bits == 0;
    }

    public Traits with(Trait trait) {
        long more = bits | bit(trait);
        return more == bits ? this : new Traits(more);
    }

    public Traits without(Trait trait) {
        long fewer = bits & ~bit(trait);
        return fewer == bits ? this : fewer == 0 ? NONE : new Traits(fewer);
    }

    public Traits union(Traits other) {
        long both = bits | other.bits;
        return both == bits ? this : both == other.bits ? other : new Traits(both);
    }

    /** The traits in declaration order. */
    public List<Trait> toList() {
        List<Trait> list = new ArrayList<>();
        for (Trait trait : ALL) {
            if (has(trait)) {
                list.add(trait);
            }
        }
        return list;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Traits other && other.bits == bits;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(bits);
    }

    @Override
    public String toString() {
        return toList().toString();
    }
}
