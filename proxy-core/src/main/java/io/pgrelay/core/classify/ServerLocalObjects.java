package io.pgrelay.core.classify;

import java.util.Set;

/**
 * Catalog views and functions whose answer belongs to one server: statistics counters, activity,
 * locks, replication and recovery state, WAL positions, server files and configuration. They run
 * on a standby, but a client that asks means the primary's (the one server pgrelay stands for).
 * Also the views that show the session's own objects (prepared statements, cursors), which must
 * be read where all of them exist.
 */
final class ServerLocalObjects {
    private static final Set<String> RELATIONS = Set.of("pg_locks", "pg_prepared_xacts", "pg_replication_slots",
            "pg_replication_origin_status", "pg_backend_memory_contexts", "pg_shmem_allocations",
            "pg_file_settings", "pg_hba_file_rules", "pg_ident_file_mappings", "pg_settings");
    private static final Set<String> SESSION_OBJECT_VIEWS = Set.of("pg_prepared_statements", "pg_cursors");
    private static final Set<String> FUNCTIONS = Set.of("pg_is_in_recovery", "pg_last_wal_receive_lsn",
            "pg_last_wal_replay_lsn", "pg_last_xact_replay_timestamp", "pg_is_wal_replay_paused",
            "pg_get_wal_replay_pause_state", "pg_lock_status", "pg_blocking_pids", "pg_safe_snapshot_blocking_pids",
            "pg_isolation_test_session_is_blocked", "pg_control_checkpoint", "pg_control_init",
            "pg_control_recovery", "pg_control_system", "pg_get_backend_memory_contexts", "pg_get_shmem_allocations",
            "pg_postmaster_start_time", "pg_conf_load_time", "pg_current_logfile", "pg_notification_queue_usage",
            "pg_prepared_xact", "pg_show_all_file_settings", "pg_hba_file_rules", "pg_ident_file_mappings",
            "pg_last_committed_xact", "pg_xact_commit_timestamp", "pg_xact_commit_timestamp_origin",
            "pg_xact_status", "txid_status", "pg_current_snapshot", "txid_current_snapshot", "inet_server_addr",
            "inet_server_port", "pg_get_replication_slots", "pg_show_all_settings", "pg_sequence_last_value",
            "pg_ls_dir", "pg_ls_logdir", "pg_ls_waldir", "pg_ls_tmpdir", "pg_ls_archive_statusdir",
            "pg_ls_logicalmapdir", "pg_ls_logicalsnapdir", "pg_ls_replslotdir", "pg_stat_file", "pg_read_file",
            "pg_read_file_old", "pg_read_binary_file", "pg_backend_pid");
    /** Settings whose value differs on a standby whatever the session set. */
    private static final Set<String> SETTINGS = Set.of("transaction_read_only", "in_hot_standby", "all");

    private ServerLocalObjects() {
    }

    private static boolean builtinSchema(String schema) {
        return schema == null || schema.equals("pg_catalog");
    }

    /** A relation whose rows are per server (pg_stat_*, pg_statio_*, pg_locks, ...). */
    static boolean isServerLocalRelation(String schema, String name) {
        if (name.startsWith("pg_stat_") || name.startsWith("pg_statio_")) {
            return true; // pg_stat_statements and the like live in other schemas too
        }
        return builtinSchema(schema) && RELATIONS.contains(name);
    }

    /** pg_prepared_statements, pg_cursors. */
    static boolean isSessionObjectsView(String schema, String name) {
        return builtinSchema(schema) && SESSION_OBJECT_VIEWS.contains(name);
    }

    /** A function whose answer is per server. */
    static boolean isServerLocalFunction(String schema, String name) {
        return builtinSchema(schema) && (name.startsWith("pg_stat_") || FUNCTIONS.contains(name));
    }

    /** {@code SHOW name} answered differently by a standby. */
    static boolean isServerLocalSetting(String name) {
        return SETTINGS.contains(name);
    }
}
