package io.pgrelay.core.classify;

import org.apache.calcite.sql.SqlBasicCall;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlJoin;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlSelect;
import org.apache.calcite.sql.dialect.PostgresqlSqlDialect;
import org.apache.calcite.sql.parser.SqlParseException;
import org.apache.calcite.sql.parser.SqlParser;
import org.apache.calcite.sql.parser.babel.SqlBabelParserImpl;
import org.apache.calcite.sql.util.SqlBasicVisitor;
import org.apache.calcite.sql.validate.SqlConformanceEnum;

import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * Apache Calcite's Babel parser (PostgreSQL dialect) as a second opinion, used only on a cache
 * miss and only for SELECT / WITH / VALUES statements whose token analysis found nothing but a
 * "soft" hazard (an identifier equal to an unsafe relation's name outside a FROM position). The
 * AST tells whether that name is really a table reference; it never overrides a hard signal of the
 * token scan, and a parse failure leaves the token analysis' decision in place.
 *
 * <p>Beware: {@link SqlKind#QUERY} includes WITH, and a data-modifying CTE or a locking clause can
 * still parse as a "query" — parsed is not safe, which is why the token scan stays the authority.
 */
public final class CalciteSupport {
    private static final SqlParser.Config CONFIG = PostgresqlSqlDialect.DEFAULT.configureParser(SqlParser.config())
            .withParserFactory(SqlBabelParserImpl.FACTORY)
            .withConformance(SqlConformanceEnum.BABEL);

    private CalciteSupport() {
    }

    /** Parses one statement; null when Calcite cannot parse it. */
    public static SqlNode parse(String sql) {
        try {
            return SqlParser.create(sql, CONFIG).parseStmt();
        } catch (SqlParseException | RuntimeException e) {
            return null;
        }
    }

    /** The facts the AST gives: table references and function names (lower-cased), or null when unparsable. */
    public static Facts facts(String sql) {
        SqlNode node = parse(sql);
        if (node == null) {
            return null;
        }
        Facts facts = new Facts();
        try {
            node.accept(new Collector(facts));
        } catch (RuntimeException e) {
            return null;
        }
        return facts;
    }

    /** What the AST references. */
    public static final class Facts {
        /** Last name part of every table reference. */
        public final Set<String> tables = new HashSet<>();
        /** Every function or operator name called. */
        public final Set<String> functions = new HashSet<>();
        /** Set when the AST holds DML (INSERT/UPDATE/DELETE/MERGE) anywhere. */
        public boolean dml;
    }

    private static final class Collector extends SqlBasicVisitor<Void> {
        private final Facts facts;

        Collector(Facts facts) {
            this.facts = facts;
        }

        @Override
        public Void visit(SqlCall call) {
            if (call instanceof SqlSelect) {
                SqlNode from = ((SqlSelect) call).getFrom();
                if (from != null) {
                    fromItem(from);
                }
            }
            SqlKind kind = call.getKind();
            if (kind == SqlKind.INSERT || kind == SqlKind.UPDATE || kind == SqlKind.DELETE || kind == SqlKind.MERGE) {
                facts.dml = true;
            }
            if (call instanceof SqlBasicCall && call.getOperator() != null) {
                facts.functions.add(call.getOperator().getName().toLowerCase(Locale.ROOT));
            }
            return super.visit(call);
        }

        private void fromItem(SqlNode node) {
            if (node instanceof SqlIdentifier) {
                SqlIdentifier id = (SqlIdentifier) node;
                facts.tables.add(id.names.get(id.names.size() - 1).toLowerCase(Locale.ROOT));
            } else if (node instanceof SqlJoin) {
                fromItem(((SqlJoin) node).getLeft());
                fromItem(((SqlJoin) node).getRight());
            } else if (node instanceof SqlCall && node.getKind() == SqlKind.AS) {
                fromItem(((SqlCall) node).operand(0));
            } else if (node instanceof SqlCall && (node.getKind() == SqlKind.TABLESAMPLE
                    || node.getKind() == SqlKind.EXPLICIT_TABLE)) {
                fromItem(((SqlCall) node).operand(0));
            }
        }
    }
}
