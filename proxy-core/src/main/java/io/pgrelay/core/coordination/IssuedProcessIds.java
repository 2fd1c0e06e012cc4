package io.pgrelay.core.coordination;

import java.util.random.RandomGenerator;

/**
 * The process ids pgrelay puts in the BackendKeyData it issues, and which instance a process id
 * names. As PgBouncer's {@code peer_id}, the id carries the issuer: with coordination each
 * instance holds a slot (0 to {@value #SLOTS} - 1, claimed in etcd under its lease), and the ids it
 * issues read {@code 01ssssssss rrrr…} in binary: bit 30 set, the slot in bits 22 to 29, 22 random
 * bits. Without a slot (standalone, or not yet registered) ids are below 2^30, so they never name a
 * slot. Every id is at least 2^22, above any operating system's pid (Linux's maximum is 2^22): a
 * pg_cancel_backend of such an id means a pgrelay session, never a server's backend.
 */
public final class IssuedProcessIds {
    /** How many instances can hold a slot at once. */
    public static final int SLOTS = 256;
    /** The slot of an instance that holds none, and of a process id that names none. */
    public static final int NO_SLOT = -1;
    /** Every issued process id is at least this. */
    public static final int FIRST = 1 << 22;
    private static final int SLOTTED = 1 << 30;
    private static final int SLOT_SHIFT = 22;
    private static final int LOCAL_MASK = (1 << SLOT_SHIFT) - 1;

    private IssuedProcessIds() {
    }

    /** A fresh process id of the instance holding {@code slot} ({@link #NO_SLOT}: an unslotted one). */
    public static int draw(int slot, RandomGenerator random) {
        if (slot == NO_SLOT) {
            return FIRST + random.nextInt(SLOTTED - FIRST);
        }
        checkSlot(slot);
        return SLOTTED | slot << SLOT_SHIFT | random.nextInt(LOCAL_MASK + 1);
    }

    /** The slot {@code processId} was issued under, or {@link #NO_SLOT}. */
    public static int slotOf(int processId) {
        if (processId < SLOTTED) {
            return NO_SLOT; // negative ones too: never issued
        }
        return (processId >>> SLOT_SHIFT) & (SLOTS - 1);
    }

    public static boolean isSlot(int slot) {
        return slot >= 0 && slot < SLOTS;
    }

    static void checkSlot(int slot) {
        if (!isSlot(slot)) {
            throw new IllegalArgumentException("slot " + slot + " out of 0.." + (SLOTS - 1));
        }
    }
}
