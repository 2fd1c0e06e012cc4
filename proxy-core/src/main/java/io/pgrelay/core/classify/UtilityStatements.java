package io.pgrelay.core.classify;

import java.util.Locale;

import static io.pgrelay.core.classify.SqlLexer.DOT;

/** DDL, privileges, maintenance and server commands: all on the primary. */
final class UtilityStatements extends StatementFamily {
    UtilityStatements(StatementAnalyzer analyzer) {
        super(analyzer);
    }

    void statement(StatementBuilder s, String w0, int from, int to) {
        switch (w0) {
            case "create" -> {
                create(s, from, to);
                s.trait(Trait.DDL);
            }
            case "alter" -> {
                s.trait(Trait.DDL);
                s.command = command(from, to, 2);
                if (is(from + 1, "system")) {
                    s.kind = StatementKind.OTHER;
                    s.reason = "ALTER SYSTEM (server-local)";
                } else {
                    s.write(s.command);
                }
            }
            case "drop", "comment", "grant", "revoke", "security", "reassign", "import", "refresh", "vacuum",
                    "analyze", "analyse", "cluster", "reindex" -> {
                if (w0.equals("drop") || w0.equals("import")) {
                    s.trait(Trait.DDL);
                }
                s.command = command(from, to, w0.equals("comment") || w0.equals("grant") || w0.equals("revoke")
                        || w0.equals("vacuum") || w0.equals("analyze") || w0.equals("cluster") ? 1 : 2);
                s.write(s.command);
            }
            case "checkpoint" -> s.reason = "CHECKPOINT (server-local)";
            default -> s.reason = "unknown statement " + s.command;
        }
    }

    private void create(StatementBuilder s, int from, int to) {
        int i = from + 1;
        if (is(i, "or") && is(i + 1, "replace")) {
            i += 2;
        }
        if (is(i, "global") || is(i, "local")) {
            i++;
        }
        boolean temp = is(i, "temp") || is(i, "temporary");
        for (int j = from; j < to && !temp; j++) {
            if (isAnyName(j) && "pg_temp".equals(name(j)) && k(j + 1) == DOT) {
                temp = true;
            }
        }
        int c = i + (temp ? 1 : 0);
        if (is(c, "unlogged")) {
            c++;
        }
        boolean twoWords = is(c, "materialized") || is(c, "unique") || is(c, "foreign") || is(c, "event");
        s.command = "CREATE" + (w(c) == null ? "" : " " + words[c].toUpperCase(Locale.ROOT))
                + (twoWords && w(c + 1) != null ? " " + words[c + 1].toUpperCase(Locale.ROOT) : "");
        s.write(s.command);
        if (temp) {
            s.effect(new SessionEffect.CreateTemporaryObject());
            s.reason = "temporary object (" + s.command + ")";
        }
        for (int j = c; j + 2 < to; j++) {
            if (depth[j] == 0 && is(j, "as") && is(j + 1, "execute") && isAnyName(j + 2)) {
                s.effect(new SessionEffect.Execute(name(j + 2))); // CREATE TABLE ... AS EXECUTE name
                break;
            }
        }
    }
}
