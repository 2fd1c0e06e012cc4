package io.pgrelay.core.classify;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static io.pgrelay.core.classify.SqlLexer.COMMA;
import static io.pgrelay.core.classify.SqlLexer.OP;

/** SHOW, SET, RESET and set_config(): settings of the server's and pgrelay's own. */
final class SettingStatements extends StatementFamily {
    /** Settings a standby refuses for some values: always on the primary. */
    private static final Set<String> TX_PRIMARY_SETTINGS = Set.of("transaction_read_only",
            "default_transaction_read_only", "transaction_isolation", "default_transaction_isolation");
    private static final String PROXY_PREFIX = "pgrelay.";

    SettingStatements(StatementAnalyzer analyzer) {
        super(analyzer);
    }

    void show(StatementBuilder s, int from, int to) {
        s.kind = StatementKind.READ;
        s.route = Route.REPLICA;
        s.reason = "SHOW";
        if (from + 1 < to && isAnyName(from + 1)) {
            String name = qualifiedText(from + 1, chainEnd(from + 1));
            if (name.startsWith(PROXY_PREFIX)) {
                s.kind = StatementKind.SESSION;
                s.reason = "pgrelay setting";
                s.effect(new SessionEffect.ProxySetting(SessionEffect.ProxySettingOp.SHOW, name, null));
            } else if (ServerLocalObjects.isServerLocalSetting(name)) {
                s.route = Route.PRIMARY;
                s.reason = "SHOW " + name + " (a standby answers differently)";
                s.trait(Trait.SERVER_LOCAL_READ);
            }
        }
    }

    void set(StatementBuilder s, int from, int to) {
        s.kind = StatementKind.SESSION;
        s.route = Route.REPLICA;
        s.reason = "SET";
        int i = from + 1;
        SessionEffect.Scope scope = SessionEffect.Scope.SESSION;
        if (is(i, "local")) {
            scope = SessionEffect.Scope.LOCAL;
            i++;
        } else if (is(i, "session") && !is(i + 1, "authorization")) {
            i++;
        }
        if (is(i, "constraints")) {
            s.command = "SET CONSTRAINTS";
            s.kind = StatementKind.TRANSACTION;
            s.reason = "SET CONSTRAINTS";
            return;
        }
        String name;
        int valueStart;
        if (is(i, "time") && is(i + 1, "zone")) {
            name = "timezone";
            valueStart = i + 2;
        } else if (is(i, "session") && is(i + 1, "authorization")) {
            name = "session_authorization";
            valueStart = i + 2;
        } else if (is(i, "role")) {
            name = "role";
            valueStart = i + 1;
        } else if (is(i, "names")) {
            name = "client_encoding";
            valueStart = i + 1;
        } else if (is(i, "schema")) {
            name = "search_path";
            valueStart = i + 1;
        } else if (is(i, "xml") && is(i + 1, "option")) {
            name = "xmloption";
            valueStart = i + 2;
        } else if (isAnyName(i)) {
            int e = chainEnd(i);
            name = qualifiedText(i, e);
            valueStart = e;
            if (is(valueStart, "to") || (k(valueStart) == OP && tb.end[valueStart] - tb.start[valueStart] == 1
                    && src[tb.start[valueStart]] == '=')) {
                valueStart++;
            }
        } else {
            notUnderstood(s);
            return;
        }
        if (name.startsWith(PROXY_PREFIX)) {
            s.reason = "pgrelay setting";
            s.bindings.add(new EffectBinding.ProxySettingValue(s.effects.size(), valueStart, to));
            s.effect(new SessionEffect.ProxySetting(SessionEffect.ProxySettingOp.SET, name,
                    EffectBinding.ProxySettingValue.value(tb, valueStart, to)));
            return;
        }
        if (TX_PRIMARY_SETTINGS.contains(name)) {
            s.route = Route.PRIMARY;
            s.reason = "SET " + name + " (not settable on a standby for every value)";
        }
        if (is(valueStart, "from") && is(valueStart + 1, "current")) {
            return; // sets the current value again: nothing changes
        }
        if (valueStart + 1 == to && (is(valueStart, "default") || name.equals("timezone") && is(valueStart, "local")
                || name.equals("role") && is(valueStart, "none"))) {
            s.effect(new SessionEffect.ResetSetting(name, scope));
        } else {
            s.textEffect(new SessionEffect.SetSetting(name, scope, text(from, to)));
        }
    }

    private static void notUnderstood(StatementBuilder s) {
        s.route = Route.PRIMARY;
        s.reason = s.command + " not understood";
        s.effect(new SessionEffect.UntrackedSetting(s.reason));
    }

    void reset(StatementBuilder s, int from, int to) {
        s.kind = StatementKind.SESSION;
        s.route = Route.REPLICA;
        s.reason = "RESET";
        int i = from + 1;
        String name;
        if (is(i, "all")) {
            s.effect(new SessionEffect.ResetAll());
            s.command = "RESET ALL";
            return;
        } else if (is(i, "time") && is(i + 1, "zone")) {
            name = "timezone";
        } else if (is(i, "session") && is(i + 1, "authorization")) {
            name = "session_authorization";
        } else if (is(i, "transaction") && is(i + 1, "isolation")) {
            name = "transaction_isolation";
        } else if (isAnyName(i)) {
            name = qualifiedText(i, chainEnd(i));
        } else {
            notUnderstood(s);
            return;
        }
        if (name.startsWith(PROXY_PREFIX)) {
            s.reason = "pgrelay setting";
            s.effect(new SessionEffect.ProxySetting(SessionEffect.ProxySettingOp.RESET, name, null));
            return;
        }
        s.effect(new SessionEffect.ResetSetting(name, SessionEffect.Scope.SESSION));
        if (TX_PRIMARY_SETTINGS.contains(name)) {
            s.route = Route.PRIMARY;
            s.reason = "RESET " + name;
        }
    }

    /** The effect of the set_config() call named at {@code nameToken}: tracked when its arguments are literals. */
    void setConfig(StatementBuilder s, int nameToken) {
        int open = nameToken + 1;
        int close = match[open];
        List<Integer> args = new ArrayList<>();
        int argStart = open + 1;
        for (int j = open + 1; j <= close; j++) {
            if (j == close || (k(j) == COMMA && depth[j] == depth[open] + 1)) {
                args.add(argStart);
                args.add(j);
                argStart = j + 1;
            }
        }
        if (args.size() == 6) {
            int a0 = args.get(0);
            int a1 = args.get(2);
            int a2 = args.get(4);
            boolean single = args.get(1) == a0 + 1 && args.get(3) == a1 + 1 && args.get(5) == a2 + 1;
            if (single && (is(a2, "true") || is(a2, "false"))) {
                SessionEffect.Scope scope = is(a2, "true") ? SessionEffect.Scope.LOCAL : SessionEffect.Scope.SESSION;
                s.bindings.add(new EffectBinding.SetConfigArguments(s.effects.size(), a0, a1));
                s.effect(EffectBinding.SetConfigArguments.setConfig(stringValue(a0), stringValue(a1), scope));
                return;
            }
        }
        s.effect(new SessionEffect.UntrackedSetting("set_config() with computed arguments"));
    }
}
