package io.pgrelay.core.console;

import io.pgrelay.protocol.SqlState;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One parsed console command. The grammar is PgBouncer-like: keywords are case-insensitive,
 * node names and hosts keep their case and may be quoted ('…' or "…"). {@link #parse} takes one
 * statement (the session splits a Query string on semicolons).
 */
record ConsoleCommand(Verb verb, String name, String host, Integer port, Integer weight, String mode, Integer acks,
                      String value) {

    enum Verb {
        SHOW_NODES("SHOW NODES", "every node: role, state, lag, LSNs, timeline, pooled connections"),
        SHOW_POOLS("SHOW POOLS", "backend pools per node, user and database: active, idle, waiting, max"),
        SHOW_CLIENTS("SHOW CLIENTS", "connected clients: address, user, database, state, node, since"),
        SHOW_STATS("SHOW STATS", "per node: statements, bytes sent and received, connections opened and closed"),
        SHOW_PROXIES("SHOW PROXIES", "the pgrelay instances of this cluster (coordination), self = this one"),
        SHOW_CONFIG("SHOW CONFIG", "the effective configuration, secrets masked"),
        SHOW_VERSION("SHOW VERSION", "the pgrelay version"),
        SHOW_HELP("SHOW HELP", "this list"),
        /** SET of a session parameter (drivers send SET application_name): accepted and ignored. */
        SET_PARAMETER("SET parameter = value", "accepted for drivers; has no effect"),
        SWITCHOVER("SWITCHOVER [TO node]", "planned primary change without data loss"),
        FAILOVER("FAILOVER [TO node]", "promote a replica now"),
        DRAIN("DRAIN node", "no new work for the node; existing sessions finish"),
        ENABLE("ENABLE node", "undo DRAIN"),
        FENCE("FENCE node", "never route to the node until UNFENCE"),
        UNFENCE("UNFENCE node", "undo FENCE"),
        REMOVE_NODE("REMOVE NODE node", "forget a node"),
        ADD_NODE("ADD NODE name host port [weight]", "add a node at runtime"),
        SET_REPLICATION_MODE("SET REPLICATION MODE async | semi-sync [n] | sync",
                "how many replicas must confirm a commit");

        final String syntax;
        final String description;

        Verb(String syntax, String description) {
            this.syntax = syntax;
            this.description = description;
        }

        boolean mutating() {
            return ordinal() >= SWITCHOVER.ordinal();
        }

        /** The CommandComplete tag: {@code SHOW} for queries, the command words for the others. */
        String tag() {
            if (this == SET_PARAMETER) {
                return "SET";
            }
            if (!mutating()) {
                return "SHOW";
            }
            return switch (this) {
                case REMOVE_NODE -> "REMOVE NODE";
                case ADD_NODE -> "ADD NODE";
                case SET_REPLICATION_MODE -> "SET REPLICATION MODE";
                default -> name();
            };
        }
    }

    static final String HINT = "console commands: SHOW NODES | POOLS | CLIENTS | STATS | PROXIES | CONFIG | VERSION | HELP; "
            + "SWITCHOVER [TO node]; FAILOVER [TO node]; DRAIN | ENABLE | FENCE | UNFENCE node; REMOVE NODE node; "
            + "ADD NODE name host port [weight]; SET REPLICATION MODE async | semi-sync [n] | sync";

    static ConsoleCommand of(Verb verb) {
        return new ConsoleCommand(verb, null, null, null, null, null, null, null);
    }

    static ConsoleCommand named(Verb verb, String name) {
        return new ConsoleCommand(verb, name, null, null, null, null, null, null);
    }

    /** Parses one statement (no semicolons); throws a 42601 ConsoleException with the command list as hint. */
    static ConsoleCommand parse(String statement) {
        List<String> words = tokens(statement);
        if (words.isEmpty()) {
            throw syntax(statement);
        }
        String first = keyword(words, 0);
        switch (first) {
            case "SHOW" -> {
                if (words.size() != 2) {
                    throw syntax(statement);
                }
                return switch (keyword(words, 1)) {
                    case "NODES" -> of(Verb.SHOW_NODES);
                    case "POOLS" -> of(Verb.SHOW_POOLS);
                    case "CLIENTS" -> of(Verb.SHOW_CLIENTS);
                    case "STATS" -> of(Verb.SHOW_STATS);
                    case "PROXIES" -> of(Verb.SHOW_PROXIES);
                    case "CONFIG" -> of(Verb.SHOW_CONFIG);
                    case "VERSION" -> of(Verb.SHOW_VERSION);
                    case "HELP" -> of(Verb.SHOW_HELP);
                    default -> throw syntax(statement);
                };
            }
            case "SWITCHOVER", "FAILOVER" -> {
                Verb verb = first.equals("SWITCHOVER") ? Verb.SWITCHOVER : Verb.FAILOVER;
                if (words.size() == 1) {
                    return of(verb);
                }
                if (words.size() == 3 && keyword(words, 1).equals("TO")) {
                    return named(verb, words.get(2));
                }
                throw usage(verb);
            }
            case "DRAIN", "ENABLE", "FENCE", "UNFENCE" -> {
                Verb verb = Verb.valueOf(first);
                if (words.size() != 2) {
                    throw usage(verb);
                }
                return named(verb, words.get(1));
            }
            case "REMOVE" -> {
                if (words.size() != 3 || !keyword(words, 1).equals("NODE")) {
                    throw usage(Verb.REMOVE_NODE);
                }
                return named(Verb.REMOVE_NODE, words.get(2));
            }
            case "ADD" -> {
                if (words.size() < 5 || words.size() > 6 || !keyword(words, 1).equals("NODE")) {
                    throw usage(Verb.ADD_NODE);
                }
                Integer port = number(words.get(4), Verb.ADD_NODE, 1, 65535);
                Integer weight = words.size() == 6 ? number(words.get(5), Verb.ADD_NODE, 0, Integer.MAX_VALUE) : null;
                return new ConsoleCommand(Verb.ADD_NODE, words.get(2), words.get(3), port, weight, null, null, null);
            }
            case "SET" -> {
                if (words.size() >= 2 && !keyword(words, 1).equals("REPLICATION")) {
                    return setParameter(statement);
                }
                if (words.size() < 4 || !keyword(words, 2).equals("MODE")) {
                    throw usage(Verb.SET_REPLICATION_MODE);
                }
                String mode = words.get(3).toLowerCase(Locale.ROOT);
                Integer acks = null;
                if (mode.equals("semi-sync") && words.size() == 5) {
                    acks = number(words.get(4), Verb.SET_REPLICATION_MODE, 1, 1000);
                } else if (words.size() != 4 || !(mode.equals("async") || mode.equals("semi-sync") || mode.equals("sync"))) {
                    throw usage(Verb.SET_REPLICATION_MODE);
                }
                return new ConsoleCommand(Verb.SET_REPLICATION_MODE, null, null, null, null, mode, acks, null);
            }
            default -> throw syntax(statement);
        }
    }

    /** {@code SET [SESSION] name = value} or {@code … TO value}; the value may be quoted. */
    private static ConsoleCommand setParameter(String statement) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                "(?is)SET\\s+(?:SESSION\\s+)?([A-Za-z_][A-Za-z0-9_.]*)\\s*(?:=|\\s+TO\\s+)\\s*(.*)").matcher(statement);
        if (!m.matches()) {
            return new ConsoleCommand(Verb.SET_PARAMETER, null, null, null, null, null, null, null);
        }
        List<String> value = tokens(m.group(2));
        return new ConsoleCommand(Verb.SET_PARAMETER, m.group(1).toLowerCase(Locale.ROOT), null, null, null, null, null,
                value.size() == 1 ? value.get(0) : m.group(2).strip());
    }

    private static String keyword(List<String> words, int index) {
        return words.get(index).toUpperCase(Locale.ROOT);
    }

    private static Integer number(String text, Verb verb, int min, int max) {
        try {
            int value = Integer.parseInt(text);
            if (value >= min && value <= max) {
                return value;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new ConsoleException(SqlState.SYNTAX_ERROR, "invalid number \"" + text + "\" in " + verb.tag()
                + " (expected " + min + ".." + max + ")", null, "usage: " + verb.syntax);
    }

    private static ConsoleException syntax(String statement) {
        return new ConsoleException(SqlState.SYNTAX_ERROR, "unknown console command: \"" + statement.strip() + "\"",
                null, HINT);
    }

    private static ConsoleException usage(Verb verb) {
        return new ConsoleException(SqlState.SYNTAX_ERROR, "syntax error in " + verb.tag(), null,
                "usage: " + verb.syntax);
    }

    /** Words separated by white space; a quoted word ('…' or "…", doubled quote inside) may hold spaces. */
    static List<String> tokens(String statement) {
        List<String> words = new ArrayList<>();
        int i = 0;
        int n = statement.length();
        while (i < n) {
            char c = statement.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
                continue;
            }
            StringBuilder word = new StringBuilder();
            if (c == '"' || c == '\'') {
                i++;
                while (true) {
                    if (i >= n) {
                        throw new ConsoleException(SqlState.SYNTAX_ERROR, "unterminated quoted name", null, HINT);
                    }
                    char d = statement.charAt(i++);
                    if (d == c) {
                        if (i < n && statement.charAt(i) == c) {
                            word.append(c);
                            i++;
                            continue;
                        }
                        break;
                    }
                    word.append(d);
                }
            } else {
                while (i < n && !Character.isWhitespace(statement.charAt(i))) {
                    word.append(statement.charAt(i++));
                }
            }
            words.add(word.toString());
        }
        return words;
    }

    /**
     * Splits a Query string into statements on semicolons outside quotes; blank statements
     * are dropped (so a trailing semicolon is fine).
     */
    static List<String> split(String sql) {
        List<String> statements = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        char quote = 0;
        for (int i = 0; i < sql.length(); i++) {
            char c = sql.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                }
            } else if (c == '"' || c == '\'') {
                quote = c;
            } else if (c == ';') {
                addStatement(statements, current);
                current.setLength(0);
                continue;
            }
            current.append(c);
        }
        addStatement(statements, current);
        return statements;
    }

    private static void addStatement(List<String> statements, StringBuilder text) {
        String statement = text.toString().strip();
        if (!statement.isEmpty()) {
            statements.add(statement);
        }
    }
}
