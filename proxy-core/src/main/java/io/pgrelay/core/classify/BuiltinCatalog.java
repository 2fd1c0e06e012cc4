package io.pgrelay.core.classify;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * PostgreSQL 15's built-in catalog: every {@code pg_catalog} function name with its most volatile
 * overload (resource {@code pg15-functions.txt}, generated once from {@code pg_proc}), the names of
 * the {@code pg_catalog} and {@code information_schema} relations, and the built-in operators.
 *
 * <p>Each of the 251 VOLATILE built-ins was decided one by one: most force the primary, a list of
 * read-only ones is allowed on a standby ({@link #ALLOWED_VOLATILE}), and some non-volatile ones
 * are hazards anyway ({@code txid_current()} and {@code pg_current_xact_id()} are STABLE but
 * assign a transaction id; {@code table_to_xml()} runs a query over a relation given as a value).
 *
 * <p>Without a live catalog nothing else is known: any other function or relation is
 * {@link Hazard#UNKNOWN}, which routes to the primary.
 */
public final class BuiltinCatalog implements Catalog {
    /** VOLATILE built-ins that are safe on a hot standby (read-only, no server-local effect). */
    static final Set<String> ALLOWED_VOLATILE = Set.of(
            "random", "setseed", "clock_timestamp", "timeofday", "gen_random_uuid",
            "pg_sleep", "pg_sleep_for", "pg_sleep_until",
            "lo_get", "pg_stat_file", "pg_read_file", "pg_read_file_old", "pg_read_binary_file",
            "pg_ls_dir", "pg_ls_logdir", "pg_ls_waldir", "pg_ls_tmpdir", "pg_ls_archive_statusdir",
            "pg_ls_logicalmapdir", "pg_ls_logicalsnapdir", "pg_ls_replslotdir",
            "pg_relation_size", "pg_table_size", "pg_indexes_size", "pg_total_relation_size",
            "pg_database_size", "pg_tablespace_size",
            "pg_blocking_pids", "pg_safe_snapshot_blocking_pids", "pg_isolation_test_session_is_blocked",
            "pg_is_in_recovery", "pg_last_wal_receive_lsn", "pg_last_wal_replay_lsn",
            "pg_last_xact_replay_timestamp", "pg_is_wal_replay_paused", "pg_get_wal_replay_pause_state",
            "pg_stat_clear_snapshot", "pg_stat_force_next_flush", "pg_notification_queue_usage",
            "pg_sequence_last_value", "pg_lock_status",
            "pg_control_checkpoint", "pg_control_init", "pg_control_recovery", "pg_control_system",
            "pg_get_backend_memory_contexts", "pg_get_multixact_members", "pg_get_shmem_allocations",
            "pg_get_wal_resource_managers", "pg_hba_file_rules", "pg_ident_file_mappings", "pg_jit_available",
            "pg_last_committed_xact", "pg_partition_ancestors", "pg_partition_tree", "pg_prepared_xact",
            "pg_show_all_file_settings", "pg_stat_get_recovery_prefetch", "pg_stat_have_stats",
            "pg_stat_get_xact_blocks_fetched", "pg_stat_get_xact_blocks_hit", "pg_stat_get_xact_function_calls",
            "pg_stat_get_xact_function_self_time", "pg_stat_get_xact_function_total_time",
            "pg_stat_get_xact_numscans", "pg_stat_get_xact_tuples_deleted", "pg_stat_get_xact_tuples_fetched",
            "pg_stat_get_xact_tuples_hot_updated", "pg_stat_get_xact_tuples_inserted",
            "pg_stat_get_xact_tuples_returned", "pg_stat_get_xact_tuples_updated",
            "pg_current_logfile", "pg_collation_actual_version", "pg_database_collation_actual_version",
            "current_query", "pg_xact_commit_timestamp", "pg_xact_commit_timestamp_origin", "pg_xact_status",
            "txid_status", "currtid2", "amvalidate");

    private static final Map<String, Hazard> HAZARDS = new HashMap<>();

    static {
        for (String f : new String[] {"nextval", "setval", "lo_creat", "lo_create", "lo_import", "lo_export",
                "lo_from_bytea", "lo_put", "lowrite", "lo_truncate", "lo_truncate64", "lo_unlink", "pg_notify",
                "txid_current", "pg_current_xact_id", "pg_logical_emit_message", "brin_summarize_new_values",
                "brin_summarize_range", "brin_desummarize_range", "gin_clean_pending_list",
                "pg_import_system_collations", "pg_nextoid", "pg_stop_making_pinned_objects",
                "pg_extension_config_dump", "pg_create_physical_replication_slot",
                "pg_create_logical_replication_slot", "pg_drop_replication_slot",
                "pg_copy_physical_replication_slot", "pg_copy_logical_replication_slot",
                "pg_replication_slot_advance", "pg_logical_slot_get_changes", "pg_logical_slot_get_binary_changes",
                "pg_logical_slot_peek_changes", "pg_logical_slot_peek_binary_changes",
                "pg_replication_origin_create", "pg_replication_origin_drop", "pg_replication_origin_advance",
                "binary_upgrade_create_empty_extension", "binary_upgrade_set_missing_value",
                "binary_upgrade_set_record_init_privs"}) {
            HAZARDS.put(f, Hazard.WRITE);
        }
        for (String f : new String[] {"pg_cancel_backend", "pg_terminate_backend", "pg_reload_conf",
                "pg_rotate_logfile", "pg_rotate_logfile_old", "pg_stat_reset", "pg_stat_reset_shared",
                "pg_stat_reset_single_table_counters", "pg_stat_reset_single_function_counters",
                "pg_stat_reset_slru", "pg_stat_reset_replication_slot", "pg_stat_reset_subscription_stats",
                "pg_log_backend_memory_contexts", "pg_promote", "pg_wal_replay_pause", "pg_wal_replay_resume",
                "pg_current_wal_lsn", "pg_current_wal_insert_lsn", "pg_current_wal_flush_lsn", "pg_switch_wal",
                "pg_create_restore_point", "pg_backup_start", "pg_backup_stop", "pg_start_backup",
                "pg_stop_backup", "pg_walfile_name", "pg_walfile_name_offset",
                "pg_replication_origin_session_setup", "pg_replication_origin_session_reset",
                "pg_replication_origin_xact_setup", "pg_replication_origin_xact_reset",
                "pg_replication_origin_progress", "pg_replication_origin_session_progress",
                "pg_replication_origin_session_is_setup", "pg_replication_origin_oid"}) {
            HAZARDS.put(f, Hazard.SERVER_LOCAL);
        }
        for (String f : new String[] {"currval", "lastval", "lo_open", "lo_close", "loread", "lo_lseek",
                "lo_lseek64", "lo_tell", "lo_tell64", "cursor_to_xml", "cursor_to_xmlschema",
                "pg_export_snapshot"}) {
            HAZARDS.put(f, Hazard.SESSION_DEPENDENT);
        }
        for (String f : new String[] {"query_to_xml", "query_to_xmlschema", "query_to_xml_and_xmlschema",
                "table_to_xml", "table_to_xmlschema", "table_to_xml_and_xmlschema", "schema_to_xml",
                "schema_to_xmlschema", "schema_to_xml_and_xmlschema", "database_to_xml",
                "database_to_xmlschema", "database_to_xml_and_xmlschema", "ts_stat", "ts_rewrite"}) {
            HAZARDS.put(f, Hazard.DYNAMIC_SQL);
        }
        for (String f : new String[] {"pg_advisory_lock", "pg_advisory_lock_shared", "pg_try_advisory_lock",
                "pg_try_advisory_lock_shared"}) {
            HAZARDS.put(f, Hazard.ADVISORY_LOCK);
        }
        for (String f : new String[] {"pg_advisory_unlock", "pg_advisory_unlock_shared", "pg_advisory_unlock_all"}) {
            HAZARDS.put(f, Hazard.ADVISORY_UNLOCK);
        }
        for (String f : new String[] {"pg_advisory_xact_lock", "pg_advisory_xact_lock_shared",
                "pg_try_advisory_xact_lock", "pg_try_advisory_xact_lock_shared"}) {
            HAZARDS.put(f, Hazard.ADVISORY_XACT_LOCK);
        }
        HAZARDS.put("set_config", Hazard.SET_CONFIG);
    }

    private static final Set<String> BUILTIN_OPERATORS = Set.of(("!! !~ !~* !~~ !~~* # ## #- #> #>> % & && &< &<| "
            + "&> * *< *<= *<> *= *> *>= + - -> ->> -|- / < <-> << <<= <<| <= <> <@ <^ = > >= >> >>= >^ ? ?# ?& "
            + "?- ?-| ?| ?|| @ @-@ @> @? @@ @@@ ^ ^@ | |&> |/ |>> || ||/ ~ ~* ~<=~ ~<~ ~= ~>=~ ~>~ ~~ ~~* != .. := =>")
            .split(" "));

    private static final BuiltinCatalog INSTANCE = new BuiltinCatalog();

    private final Map<String, FunctionInfo> functions = new HashMap<>();
    private final Set<String> pgCatalogRelations = new HashSet<>();
    private final Set<String> infoSchemaRelations = new HashSet<>();
    private final Map<String, String> keywords = new HashMap<>();

    private BuiltinCatalog() {
        for (String line : lines("pg15-functions.txt")) {
            String[] f = line.split(" ");
            String name = f[0];
            char volatility = f[1].charAt(0);
            String flags = f.length > 2 ? f[2] : "";
            boolean aggregate = flags.indexOf('a') >= 0 || flags.indexOf('w') >= 0;
            boolean set = flags.indexOf('s') >= 0;
            functions.put(name, decide(name, volatility, aggregate, set));
        }
        for (String line : lines("pg15-relations.txt")) {
            int dot = line.indexOf('.');
            String schema = line.substring(0, dot);
            String name = line.substring(dot + 1);
            (schema.equals("pg_catalog") ? pgCatalogRelations : infoSchemaRelations).add(name);
        }
        for (String line : lines("pg15-keywords.txt")) {
            String[] f = line.split(" ");
            keywords.put(f[0], f[1]);
        }
    }

    private static FunctionInfo decide(String name, char volatility, boolean aggregate, boolean set) {
        Hazard h = HAZARDS.get(name);
        if (h != null) {
            return new FunctionInfo(name, h, reasonFor(h, name), aggregate, set, volatility == 'v');
        }
        if (volatility == 'v' && !ALLOWED_VOLATILE.contains(name)) {
            return new FunctionInfo(name, Hazard.VOLATILE, "volatile function " + name + "()", aggregate, set, true);
        }
        return new FunctionInfo(name, Hazard.NONE, "", aggregate, set, volatility == 'v');
    }

    static String reasonFor(Hazard h, String name) {
        switch (h) {
            case WRITE: return "writing function " + name + "()";
            case SERVER_LOCAL: return "server-local function " + name + "()";
            case SESSION_DEPENDENT: return "session-dependent function " + name + "()";
            case DYNAMIC_SQL: return "function " + name + "() runs SQL given as a value";
            case ADVISORY_LOCK: return "session advisory lock " + name + "()";
            case ADVISORY_UNLOCK: return "advisory unlock " + name + "()";
            case ADVISORY_XACT_LOCK: return "advisory lock " + name + "()";
            case SET_CONFIG: return "set_config()";
            case VOLATILE: return "volatile function " + name + "()";
            default: return "function " + name + "()";
        }
    }

    private static Iterable<String> lines(String resource) {
        try (InputStream in = BuiltinCatalog.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing classifier resource " + resource);
            }
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            java.util.List<String> out = new java.util.ArrayList<>();
            for (String line; (line = reader.readLine()) != null; ) {
                if (!line.isBlank()) {
                    out.add(line.strip());
                }
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The shared instance. */
    public static BuiltinCatalog get() {
        return INSTANCE;
    }

    /** PostgreSQL 15 keyword category: 'U' unreserved, 'C' column name, 'T' type/function name, 'R' reserved; null if none. */
    String keywordCategory(String word) {
        return keywords.get(word);
    }

    /** The built-in function of that name, ignoring hazards of user functions; null when not built in. */
    FunctionInfo builtinFunction(String name) {
        return functions.get(name);
    }

    boolean isBuiltinRelation(String schema, String name) {
        if (schema == null || schema.equals("pg_catalog")) {
            return pgCatalogRelations.contains(name);
        }
        return schema.equals("information_schema") && infoSchemaRelations.contains(name);
    }

    @Override
    public FunctionInfo function(String schema, String name) {
        if (schema == null || schema.equals("pg_catalog")) {
            return functions.get(name);
        }
        return null;
    }

    @Override
    public RelationInfo relation(String schema, String name) {
        return isBuiltinRelation(schema, name) ? RelationInfo.safe(name) : null;
    }

    @Override
    public boolean isHazardousRelationName(String name) {
        return false;
    }

    @Override
    public FunctionInfo operator(String symbol) {
        return BUILTIN_OPERATORS.contains(symbol) ? null
                : new FunctionInfo(symbol, Hazard.UNKNOWN, "unknown operator " + symbol, false, false, true);
    }

    @Override
    public boolean live() {
        return false;
    }

    @Override
    public String describe() {
        return "built-in PostgreSQL 15 catalog";
    }
}
