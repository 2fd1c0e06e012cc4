package io.pgrelay.core.ops;

import java.util.List;
import java.util.Locale;

/**
 * Maps the replication modes onto {@code synchronous_standby_names}: {@code async} → no
 * synchronous standbys; {@code semi-sync} with {@code acks} n → {@code ANY n (…)}; {@code sync}
 * → {@code FIRST k (…)} with k = every replica. Names are the standbys' {@code application_name},
 * which pgrelay sets to the node name.
 */
final class ReplicationModes {
    static final String ASYNC = "async";
    static final String SEMI_SYNC = "semi-sync";
    static final String SYNC = "sync";

    private ReplicationModes() {
    }

    /** Validates a requested mode; {@code acks} defaults to 1 for semi-sync and is ignored otherwise. */
    static ReplicationMode parse(String mode, Integer acks, int replicas) {
        if (mode == null) {
            throw new OperationException(OperationException.Kind.BAD_REQUEST,
                    "\"mode\" is required: async | semi-sync | sync");
        }
        String normalized = mode.toLowerCase(Locale.ROOT);
        switch (normalized) {
            case ASYNC:
                return ReplicationMode.ASYNC;
            case SYNC:
                if (replicas == 0) {
                    throw new OperationException(OperationException.Kind.CONFLICT,
                            "sync mode needs at least one replica");
                }
                return new ReplicationMode(SYNC, replicas);
            case SEMI_SYNC:
                int n = acks == null ? 1 : acks;
                if (n < 1) {
                    throw new OperationException(OperationException.Kind.BAD_REQUEST, "\"acks\" must be >= 1");
                }
                if (n > replicas) {
                    throw new OperationException(OperationException.Kind.CONFLICT, "\"acks\" " + n
                            + " exceeds the " + replicas + " replica(s) that could confirm");
                }
                return new ReplicationMode(SEMI_SYNC, n);
            default:
                throw new OperationException(OperationException.Kind.BAD_REQUEST,
                        "unknown replication mode '" + mode + "': async | semi-sync | sync");
        }
    }

    /**
     * The setting for {@code mode} over these standby names. Acks are capped at the standbys
     * left (after a failover the list is one shorter); sync always waits for all of them.
     */
    static String standbyNames(ReplicationMode mode, List<String> names) {
        if (ASYNC.equals(mode.mode()) || names.isEmpty()) {
            return "";
        }
        StringBuilder list = new StringBuilder();
        for (String name : names) {
            list.append(list.length() == 0 ? "" : ", ").append('"').append(name.replace("\"", "\"\"")).append('"');
        }
        if (SYNC.equals(mode.mode())) {
            return "FIRST " + names.size() + " (" + list + ")";
        }
        return "ANY " + Math.min(mode.acks(), names.size()) + " (" + list + ")";
    }
}
