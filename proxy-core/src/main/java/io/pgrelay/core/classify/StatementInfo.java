package io.pgrelay.core.classify;

/**
 * One statement of a query string, from {@link Classifier#analyze(String, boolean)}: its own
 * classification, where it is in the text, its first keyword(s) and — for statements with session
 * effects — the details the session needs to track them.
 *
 * @param classification this statement alone (statementCount 1)
 * @param start          offset of the statement's first token in the analysed string (chars)
 * @param end            offset just after its last token (chars, excluding the ';')
 * @param text           the statement's text, {@code sql.substring(start, end)}
 * @param command        the first keyword(s), upper-case, e.g. "SELECT", "SET", "ROLLBACK TO", "CREATE TABLE"
 * @param details        parsed details, or null for statements without session effects
 */
public record StatementInfo(Classification classification, int start, int end, String text, String command,
                            Details details) {

    /** Parsed details of a statement with session effects. */
    public sealed interface Details permits SetDetails, BeginDetails, PrepareDetails, ExecuteDetails,
            DeallocateDetails, DeclareDetails, CloseDetails, FetchDetails, ListenDetails, DiscardDetails,
            SetConfigDetails, PgRelaySettingDetails {
    }

    /**
     * SET / SET LOCAL / RESET / RESET ALL.
     *
     * @param name     the parameter name, lower-cased (e.g. "search_path", "timezone" for SET TIME ZONE,
     *                 "role", "session_authorization", "client_encoding" for SET NAMES); null for RESET ALL
     * @param value    the value text exactly as written after TO / = (null for RESET, "DEFAULT"
     *                 when written so, "FROM CURRENT" for SET ... FROM CURRENT)
     * @param local    SET LOCAL
     * @param reset    RESET (or SET ... TO DEFAULT is {@code value = "DEFAULT"}, not reset)
     * @param resetAll RESET ALL
     */
    public record SetDetails(String name, String value, boolean local, boolean reset, boolean resetAll)
            implements Details {
    }

    /**
     * BEGIN / START TRANSACTION / SET TRANSACTION / SET SESSION CHARACTERISTICS AS TRANSACTION modes.
     *
     * @param readOnly   TRUE for READ ONLY, FALSE for READ WRITE, null when not given
     * @param isolation  "serializable", "repeatable read", "read committed", "read uncommitted" or null
     * @param deferrable TRUE / FALSE / null
     * @param setTransaction true for SET TRANSACTION, false for a transaction start
     * @param sessionCharacteristics true for SET SESSION CHARACTERISTICS AS TRANSACTION
     */
    public record BeginDetails(Boolean readOnly, String isolation, Boolean deferrable, boolean setTransaction,
                               boolean sessionCharacteristics) implements Details {
    }

    /** PREPARE name AS statement: the session stores the inner statement and its route. */
    public record PrepareDetails(String name, String statement, Classification classification) implements Details {
    }

    /** EXECUTE name. */
    public record ExecuteDetails(String name) implements Details {
    }

    /** DEALLOCATE name, or {@code name == null} for DEALLOCATE ALL. */
    public record DeallocateDetails(String name) implements Details {
    }

    /** DECLARE name CURSOR ... FOR query, with the query's classification. */
    public record DeclareDetails(String name, boolean withHold, Classification query) implements Details {
    }

    /** CLOSE name, or {@code name == null} for CLOSE ALL. */
    public record CloseDetails(String name) implements Details {
    }

    /** FETCH / MOVE ... cursor. */
    public record FetchDetails(String cursor, boolean move) implements Details {
    }

    /** LISTEN / UNLISTEN channel; {@code channel == "*"} for UNLISTEN *. */
    public record ListenDetails(String channel, boolean listen) implements Details {
    }

    /** DISCARD ALL | PLANS | SEQUENCES | TEMP (TEMPORARY is reported as "temp"). */
    public record DiscardDetails(String what) implements Details {
    }

    /**
     * A {@code set_config(name, value, is_local)} call. When the arguments are not all literals,
     * {@code tracked} is false and name/value are null.
     */
    public record SetConfigDetails(String name, String value, boolean isLocal, boolean tracked) implements Details {
    }

    /**
     * SET / RESET / SHOW of a {@code pgrelay.*} setting (answered by the proxy).
     *
     * @param op    "set", "reset" or "show"
     * @param name  lower-cased, e.g. "pgrelay.route"
     * @param value the value text (unquoted when a single string literal), null for reset/show
     */
    public record PgRelaySettingDetails(String op, String name, String value) implements Details {
    }
}
