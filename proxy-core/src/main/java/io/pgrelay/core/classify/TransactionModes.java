package io.pgrelay.core.classify;

/**
 * The modes of BEGIN / START TRANSACTION / SET TRANSACTION / SET SESSION CHARACTERISTICS.
 *
 * @see <a href="https://www.postgresql.org/docs/current/sql-set-transaction.html">SET TRANSACTION</a>
 */
public record TransactionModes(Access access, Isolation isolation, Deferrable deferrable) {
    public static final TransactionModes DEFAULT =
            new TransactionModes(Access.DEFAULT, Isolation.DEFAULT, Deferrable.DEFAULT);

    public enum Access { DEFAULT, READ_ONLY, READ_WRITE }

    public enum Isolation {
        DEFAULT, READ_UNCOMMITTED, READ_COMMITTED, REPEATABLE_READ, SERIALIZABLE,
        /** Not understood: treated as the strictest. */
        UNKNOWN;

        String sql() {
            return name().replace('_', ' ');
        }

        String settingValue() {
            return name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ');
        }
    }

    public enum Deferrable { DEFAULT, DEFERRABLE, NOT_DEFERRABLE }

    public boolean readOnly() {
        return access == Access.READ_ONLY;
    }

    /** SERIALIZABLE (or not understood): a standby refuses it. */
    public boolean serializable() {
        return isolation == Isolation.SERIALIZABLE || isolation == Isolation.UNKNOWN;
    }

    /** The BEGIN statement that starts a transaction with these modes. */
    public String beginSql() {
        StringBuilder sql = new StringBuilder("BEGIN");
        String separator = " ";
        if (isolation != Isolation.DEFAULT && isolation != Isolation.UNKNOWN) {
            sql.append(separator).append("ISOLATION LEVEL ").append(isolation.sql());
            separator = ", ";
        }
        if (access != Access.DEFAULT) {
            sql.append(separator).append(access == Access.READ_ONLY ? "READ ONLY" : "READ WRITE");
            separator = ", ";
        }
        if (deferrable != Deferrable.DEFAULT) {
            sql.append(separator).append(deferrable == Deferrable.DEFERRABLE ? "DEFERRABLE" : "NOT DEFERRABLE");
        }
        return sql.toString();
    }
}
