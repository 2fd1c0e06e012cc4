package io.pgrelay.core.classify;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The classification of a whole query string from its statements: the strictest route; its kind
 * is the first statement's kind, or WRITE when any part writes. Within one string, a cursor
 * declared or a statement prepared earlier resolves a later FETCH / EXECUTE, and a plain BEGIN
 * whose transaction is committed in the same string, with only replica-safe statements in
 * between, is replica-safe. A statement naming a session object defined elsewhere is
 * session-dependent: PRIMARY here, resolved by the session.
 */
final class Combination {
    private static final String HINT = "pgrelay:primary hint";

    private Combination() {
    }

    static Classification of(List<StatementBuilder> stmts, boolean hint) {
        Traits traits = hint ? Traits.of(Trait.HINT_PRIMARY) : Traits.NONE;
        List<StatementFacts> facts = new ArrayList<>(stmts.size());
        for (StatementBuilder s : stmts) {
            facts.add(s.facts());
            traits = traits.union(s.traits);
        }
        if (stmts.isEmpty()) {
            return new Classification(hint ? Route.PRIMARY : Route.REPLICA, StatementKind.OTHER,
                    hint ? HINT : "empty query", traits.with(Trait.EMPTY), facts);
        }
        if (stmts.size() > 1) {
            traits = traits.with(Trait.MULTI);
        }
        Route[] routes = new Route[stmts.size()];
        String[] reasons = new String[stmts.size()];
        resolveSessionObjects(stmts, routes, reasons);
        replicaSafeTransactions(stmts, routes);
        Route route = hint ? Route.PRIMARY : Route.REPLICA;
        String reason = null;
        boolean write = false;
        for (int i = 0; i < stmts.size(); i++) {
            write |= stmts.get(i).kind == StatementKind.WRITE;
            if (routes[i] == Route.PRIMARY) {
                route = Route.PRIMARY;
                if (reason == null) {
                    reason = reasons[i];
                }
            }
        }
        if (hint) {
            reason = HINT;
        } else if (reason == null) {
            reason = stmts.size() == 1 ? reasons[0] : stmts.size() + " replica-safe statements";
        }
        StatementKind kind = write ? StatementKind.WRITE : stmts.get(0).kind;
        return new Classification(route, kind, reason, traits, facts);
    }

    private static void resolveSessionObjects(List<StatementBuilder> stmts, Route[] routes, String[] reasons) {
        Map<String, Route> cursors = new HashMap<>();
        Map<String, Route> prepared = new HashMap<>();
        for (int i = 0; i < stmts.size(); i++) {
            StatementBuilder s = stmts.get(i);
            routes[i] = s.route;
            reasons[i] = s.reason;
            for (SessionEffect effect : s.effects) {
                if (effect instanceof SessionEffect.DeclareCursor cursor) {
                    cursors.put(cursor.name(), s.route);
                } else if (effect instanceof SessionEffect.Prepare prepare) {
                    prepared.put(prepare.name(), prepare.statement().route());
                } else if (effect instanceof SessionEffect.Fetch fetch && cursors.containsKey(fetch.cursor())) {
                    routes[i] = cursors.get(fetch.cursor());
                } else if (effect instanceof SessionEffect.Execute execute && s.traits.has(Trait.SESSION_OBJECT)) {
                    Route target = prepared.get(execute.name());
                    if (target == null) {
                        routes[i] = Route.PRIMARY;
                        reasons[i] = s.command + " " + execute.name() + " (session-dependent)";
                    } else {
                        routes[i] = routes[i].strictest(target);
                    }
                }
            }
        }
    }

    private static void replicaSafeTransactions(List<StatementBuilder> stmts, Route[] routes) {
        for (int i = 0; i < stmts.size(); i++) {
            if (!stmts.get(i).softTxnStart) {
                continue;
            }
            boolean allReplica = true;
            for (int j = i + 1; j < stmts.size(); j++) {
                StatementBuilder s = stmts.get(j);
                if (s.closesTxn) {
                    if (allReplica) {
                        routes[i] = Route.REPLICA;
                    }
                    break;
                }
                if (routes[j] != Route.REPLICA || s.first(SessionEffect.Begin.class) != null) {
                    allReplica = false;
                }
            }
        }
    }
}
