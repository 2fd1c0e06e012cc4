package io.pgrelay.testkit.corpus;

import io.pgrelay.testkit.LocalCluster;
import io.pgrelay.testkit.LocalNode;
import io.pgrelay.testkit.Processes;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Labels a statement the way the corpus README ({@link Corpus}) describes: sent as is, as one
 * simple-protocol Query (psql -c) in autocommit on a fresh connection, after its setup, to a hot
 * standby: success → {@code read}; refused with a standby-specific error, and successful on the
 * primary (inside BEGIN … ROLLBACK where it allows) → {@code write}; anything else → {@code error}
 * (not a valid oracle statement). On the primary it also records whether the statement obtained
 * a transaction id ({@code pg_current_xact_id_if_assigned()} before the ROLLBACK).
 */
public final class StandbyOracle {
    /** The SQLSTATEs a hot standby refuses a write with (PostgreSQL 15, per the corpus README). */
    public static final Set<String> STANDBY_SQLSTATES = Set.of("25006", "0A000", "55000", "25001", "XX000");

    /** Outcome of one statement. */
    public record Label(String label, String standbySqlState, String standbyError, boolean primaryAssignedXid,
                        String primaryError) {
    }

    /** Result of one psql run. */
    public record Run(boolean ok, String sqlState, String error, String output) {
        /** Whether the statement obtained a transaction id (only {@link #onPrimary} probes it). */
        public boolean assignedXid() {
            return ok && output.lines().anyMatch(l -> l.strip().matches("XID=\\d+"));
        }
    }

    private final LocalCluster cluster;
    private final LocalNode primary;
    private final LocalNode standby;
    private final String database;

    /** Runs statements as the superuser in {@code database} on {@code primary} and {@code standby}. */
    public StandbyOracle(LocalCluster cluster, LocalNode primary, LocalNode standby, String database) {
        this.cluster = cluster;
        this.primary = primary;
        this.standby = standby;
        this.database = database;
    }

    /** The label {@code sql} earns, after {@code setup} (may be null) on the same connection. */
    public Label label(String sql, String setup) {
        Run s = onStandby(sql, setup);
        Run p = onPrimary(sql, setup);
        boolean xid = p.assignedXid();
        if (s.ok()) {
            return new Label("read", null, null, xid, p.ok() ? null : p.error());
        }
        if (STANDBY_SQLSTATES.contains(s.sqlState()) && p.ok()) {
            return new Label("write", s.sqlState(), s.error(), xid, null);
        }
        return new Label("error", s.sqlState(), s.error(), false, p.ok() ? null : p.sqlState() + " " + p.error());
    }

    /** Runs on the primary inside BEGIN … ROLLBACK, or in autocommit when it cannot run in a transaction block. */
    public Run onPrimary(String sql, String setup) {
        List<String> commands = new ArrayList<>();
        commands.add("BEGIN");
        if (setup != null) {
            commands.add(setup);
        }
        commands.add(sql);
        commands.add("SELECT 'XID=' || pg_current_xact_id_if_assigned()");
        commands.add("ROLLBACK");
        Run p = psql(primary, commands);
        if (!p.ok() && "25001".equals(p.sqlState())) {
            List<String> plain = new ArrayList<>();
            if (setup != null) {
                plain.add(setup);
            }
            plain.add(sql);
            p = psql(primary, plain);
        }
        return p;
    }

    /** Runs on the standby only (README method); the result tells whether it succeeded. */
    public Run onStandby(String sql, String setup) {
        List<String> onStandby = new ArrayList<>();
        if (setup != null) {
            onStandby.add(setup);
        }
        onStandby.add(sql);
        return psql(standby, onStandby);
    }

    private Run psql(LocalNode node, List<String> commands) {
        List<String> cmd = new ArrayList<>(List.of(Processes.pgProgram("psql"), "-X", "-q", "-A", "-t",
                "-v", "ON_ERROR_STOP=1", "-v", "VERBOSITY=verbose", "-h", node.host(), "-p",
                Integer.toString(node.port()), "-U", LocalCluster.SUPERUSER, "-d", database));
        cmd.add("-c");
        cmd.add("\\o /dev/null"); // query output (COPY may be binary) is not needed, only the XID probe
        for (String c : commands) {
            if (c.startsWith("SELECT 'XID='")) {
                cmd.add("-c");
                cmd.add("\\o");
            }
            cmd.add("-c");
            cmd.add(c);
        }
        Processes.Result r = Processes.run(cmd, Map.of("PGPASSWORD", cluster.superuser().password(),
                "PGOPTIONS", "-c client_min_messages=error -c statement_timeout=20s"), "", Duration.ofSeconds(60));
        if (r.exitCode() == 0) {
            return new Run(true, null, null, r.stdout());
        }
        String state = null;
        String error = r.stderr().strip();
        for (String line : r.stderr().lines().toList()) {
            if (line.startsWith("ERROR:  ")) {
                String rest = line.substring(8);
                if (rest.length() > 6 && rest.charAt(5) == ':') {
                    state = rest.substring(0, 5);
                    error = rest.substring(7);
                } else {
                    error = rest;
                }
                break;
            }
        }
        return new Run(false, state, error, r.stdout());
    }
}
