package io.pgrelay.core.classify;

import java.util.ArrayList;
import java.util.List;

/**
 * Bit flags of {@link Classification#effects()}: which statements with session effects a query
 * string contains, so that the session parses only those precisely (with
 * {@link Classifier#analyze(String, boolean)}). Every flag is derived from the token stream alone,
 * so it is the same for every statement with the same fingerprint.
 */
public final class Effects {
    /** A transaction start: BEGIN / START TRANSACTION. */
    public static final int BEGIN = 1;
    /** A transaction start with READ ONLY. */
    public static final int BEGIN_READ_ONLY = 1 << 1;
    /** COMMIT / END / ROLLBACK / ABORT, including AND CHAIN (not ROLLBACK TO). */
    public static final int COMMIT_ROLLBACK = 1 << 2;
    /** SAVEPOINT / RELEASE / ROLLBACK TO. */
    public static final int SAVEPOINT = 1 << 3;
    /** SET TRANSACTION / SET SESSION CHARACTERISTICS AS TRANSACTION. */
    public static final int SET_TRANSACTION = 1 << 4;
    /** SET / RESET / SET LOCAL of any kind, RESET ALL, and {@code set_config(...)} calls. */
    public static final int SET = 1 << 5;
    /** SQL PREPARE name AS statement. */
    public static final int PREPARE = 1 << 6;
    /** SQL EXECUTE name: its route depends on what the session prepared. */
    public static final int EXECUTE = 1 << 7;
    /** DEALLOCATE name | ALL. */
    public static final int DEALLOCATE = 1 << 8;
    /** DECLARE name CURSOR. */
    public static final int DECLARE_CURSOR = 1 << 9;
    /** DECLARE ... WITH HOLD (the cursor outlives its transaction: pins the session). */
    public static final int DECLARE_WITH_HOLD = 1 << 10;
    /** CLOSE name | ALL. */
    public static final int CLOSE_CURSOR = 1 << 11;
    /** FETCH / MOVE: its route depends on where the cursor was declared. */
    public static final int FETCH = 1 << 12;
    /** LISTEN channel. */
    public static final int LISTEN = 1 << 13;
    /** UNLISTEN channel | *. */
    public static final int UNLISTEN = 1 << 14;
    /** NOTIFY channel (or pg_notify()). */
    public static final int NOTIFY = 1 << 15;
    /** DISCARD ALL | PLANS | SEQUENCES | TEMP. */
    public static final int DISCARD = 1 << 16;
    /** Creates a temporary object (CREATE TEMP ..., SELECT INTO TEMP, pg_temp.x). */
    public static final int TEMP_OBJECT = 1 << 17;
    /** Takes a session-level advisory lock. */
    public static final int ADVISORY_LOCK = 1 << 18;
    /** Releases session-level advisory locks (pg_advisory_unlock*, incl. unlock_all). */
    public static final int ADVISORY_UNLOCK = 1 << 19;
    /** SET / RESET / SHOW of a {@code pgrelay.*} name: answered by the proxy, never sent to a server. */
    public static final int PGRELAY_SETTING = 1 << 20;
    /** A {@code /* pgrelay:primary *}{@code /} hint comment. */
    public static final int HINT_PRIMARY = 1 << 21;
    /** COPY ... FROM STDIN. */
    public static final int COPY_FROM_STDIN = 1 << 22;
    /** COPY ... TO STDOUT. */
    public static final int COPY_TO_STDOUT = 1 << 23;
    /** LOCK [TABLE]. */
    public static final int LOCK = 1 << 24;
    /** More than one statement. */
    public static final int MULTI = 1 << 25;
    /** No statement at all (empty, only ';' or comments). */
    public static final int EMPTY = 1 << 26;
    /** Names a relation or function the catalog does not know (yet): worth reloading the catalog. */
    public static final int UNKNOWN_NAME = 1 << 27;
    /** Changes the schema (CREATE / ALTER / DROP / IMPORT FOREIGN SCHEMA): the catalog must be reloaded after it. */
    public static final int DDL = 1 << 28;

    private static final String[] NAMES = {
        "BEGIN", "BEGIN_READ_ONLY", "COMMIT_ROLLBACK", "SAVEPOINT", "SET_TRANSACTION", "SET", "PREPARE",
        "EXECUTE", "DEALLOCATE", "DECLARE_CURSOR", "DECLARE_WITH_HOLD", "CLOSE_CURSOR", "FETCH", "LISTEN",
        "UNLISTEN", "NOTIFY", "DISCARD", "TEMP_OBJECT", "ADVISORY_LOCK", "ADVISORY_UNLOCK", "PGRELAY_SETTING",
        "HINT_PRIMARY", "COPY_FROM_STDIN", "COPY_TO_STDOUT", "LOCK", "MULTI", "EMPTY", "UNKNOWN_NAME", "DDL"};

    private Effects() {
    }

    /** True when {@code effects} has every bit of {@code flag}. */
    public static boolean has(int effects, int flag) {
        return (effects & flag) == flag;
    }

    /** The names of the flags set in {@code effects}, in bit order. */
    public static List<String> names(int effects) {
        List<String> names = new ArrayList<>();
        for (int bit = 0; bit < NAMES.length; bit++) {
            if ((effects & (1 << bit)) != 0) {
                names.add(NAMES[bit]);
            }
        }
        return names;
    }
}
