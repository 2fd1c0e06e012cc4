package io.pgrelay.core.classify;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static io.pgrelay.core.classify.SqlLexer.LPAREN;
import static io.pgrelay.core.classify.SqlLexer.OP;

/**
 * Statements about objects that live in a session: prepared statements, cursors, LISTEN
 * channels, DISCARD, LOAD, NOTIFY.
 */
final class SessionObjectStatements extends StatementFamily {
    SessionObjectStatements(StatementAnalyzer analyzer) {
        super(analyzer);
    }

    void prepare(StatementBuilder s, int from, int to) {
        s.kind = StatementKind.SESSION;
        if (!named(s, from + 1)) {
            return;
        }
        String pname = name(from + 1);
        int i = from + 2;
        if (k(i) == LPAREN) {
            i = match[i] + 1;
        }
        if (!is(i, "as") || i + 1 >= to) {
            s.reason = "PREPARE not understood";
            return;
        }
        StatementBuilder inner = statement(i + 1, to);
        s.route = inner.route;
        s.softOnly = inner.softOnly;
        s.reason = "PREPARE of " + (inner.route == Route.PRIMARY ? inner.reason : inner.command);
        s.traits = s.traits.union(inner.traits.without(Trait.SESSION_OBJECT));
        s.textEffect(new SessionEffect.Prepare(pname, text(from, to), preparedFacts(inner)));
    }

    /** What the prepared statement does; effects whose values are literals cannot be cached with it. */
    private static StatementFacts preparedFacts(StatementBuilder inner) {
        StatementFacts facts = inner.facts();
        if (inner.bindings.isEmpty()) {
            return facts;
        }
        List<SessionEffect> effects = new ArrayList<>(facts.effects());
        for (EffectBinding binding : inner.bindings) {
            effects.set(binding.effect(), new SessionEffect.UntrackedSetting("set_config() in a prepared statement"));
        }
        return new StatementFacts(facts.command(), facts.route(), facts.kind(), facts.reason(), facts.traits(), effects);
    }

    /** EXECUTE goes where the prepared statement may run; its arguments decide as well. */
    void execute(StatementBuilder s, int from, int to) {
        s.kind = StatementKind.SESSION;
        s.route = Route.PRIMARY;
        s.reason = "EXECUTE not understood";
        if (!isAnyName(from + 1)) {
            return;
        }
        String pname = name(from + 1);
        s.effect(new SessionEffect.Execute(pname));
        s.trait(Trait.SESSION_OBJECT);
        Verdict v = new Verdict();
        if (from + 2 < to) {
            scan(from + 2, to, v, ScanMode.QUERY);
        }
        s.traits = s.traits.union(v.traits);
        s.route = v.primary() ? Route.PRIMARY : Route.REPLICA;
        s.reason = v.primary() ? "EXECUTE with " + v.reason : "EXECUTE " + pname;
    }

    void deallocate(StatementBuilder s, int from, int to) {
        s.kind = StatementKind.SESSION;
        s.route = Route.REPLICA;
        s.reason = "DEALLOCATE";
        int i = from + 1;
        if (is(i, "prepare")) {
            i++;
        }
        s.effect(new SessionEffect.Deallocate(is(i, "all") || i >= to ? null : isAnyName(i) ? name(i) : null));
    }

    void declare(StatementBuilder s, int from, int to) {
        s.kind = StatementKind.SESSION;
        if (!named(s, from + 1)) {
            return;
        }
        String cname = name(from + 1);
        int i = from + 2;
        boolean hold = false;
        int forAt = -1;
        for (; i < to; i++) {
            if (is(i, "with") && is(i + 1, "hold")) {
                hold = true;
            }
            if (is(i, "for") && depth[i] == 0) {
                forAt = i;
                break;
            }
        }
        if (forAt < 0 || forAt + 1 >= to) {
            s.reason = "DECLARE not understood";
            return;
        }
        StatementBuilder q = statement(forAt + 1, to);
        s.traits = s.traits.union(q.traits);
        s.route = q.route;
        s.softOnly = q.softOnly;
        s.reason = "DECLARE CURSOR for " + (q.route == Route.PRIMARY ? q.reason : q.command);
        if (q.kind == StatementKind.WRITE) {
            s.kind = StatementKind.WRITE;
        }
        if (hold) {
            s.route = Route.PRIMARY;
            s.softOnly = false;
            s.reason = "DECLARE ... WITH HOLD (outlives the transaction)";
        }
        s.effect(new SessionEffect.DeclareCursor(cname, hold));
    }

    void fetch(StatementBuilder s, int from, int to) {
        s.kind = StatementKind.SESSION;
        s.route = Route.PRIMARY;
        s.reason = s.command + " (session-dependent: the cursor's node)";
        int last = to - 1;
        if (isAnyName(last) && last > from) {
            s.effect(new SessionEffect.Fetch(name(last)));
        }
    }

    void close(StatementBuilder s, int from, int to) {
        s.kind = StatementKind.SESSION;
        s.route = Route.PRIMARY;
        s.reason = "CLOSE (session-dependent)";
        if (is(from + 1, "all")) {
            s.effect(new SessionEffect.CloseCursor(null));
        } else if (isAnyName(from + 1)) {
            s.effect(new SessionEffect.CloseCursor(name(from + 1)));
        }
    }

    void listen(StatementBuilder s, int from, int to) {
        boolean listen = is(from, "listen");
        s.kind = StatementKind.SESSION;
        s.route = Route.PRIMARY;
        s.reason = listen ? "LISTEN (pins the session)" : "UNLISTEN";
        boolean all = k(from + 1) == OP && tb.end[from + 1] - tb.start[from + 1] == 1 && src[tb.start[from + 1]] == '*';
        String channel = isAnyName(from + 1) ? name(from + 1) : null;
        if (listen && channel != null) {
            s.effect(new SessionEffect.Listen(channel));
        } else if (!listen && (channel != null || all)) {
            s.effect(new SessionEffect.Unlisten(channel));
        }
    }

    void notify(StatementBuilder s) {
        s.kind = StatementKind.WRITE;
        s.trait(Trait.NOTIFY);
        s.reason = "NOTIFY";
    }

    /** DISCARD forgets state that lives where the session's writes and pins are: on the primary. */
    void discard(StatementBuilder s, int from, int to) {
        s.kind = StatementKind.SESSION;
        s.command = command(from, to, 2);
        String what = w(from + 1);
        SessionEffect.DiscardScope scope = switch (what == null ? "" : what) {
            case "plans" -> SessionEffect.DiscardScope.PLANS;
            case "sequences" -> SessionEffect.DiscardScope.SEQUENCES;
            case "temp", "temporary" -> SessionEffect.DiscardScope.TEMP;
            default -> SessionEffect.DiscardScope.ALL;
        };
        s.reason = "DISCARD " + scope.name().toUpperCase(Locale.ROOT) + " (session state is on the primary)";
        s.effect(new SessionEffect.Discard(scope));
    }

    void load(StatementBuilder s) {
        s.kind = StatementKind.SESSION;
        s.reason = "LOAD (server-local)";
        s.effect(new SessionEffect.LoadLibrary());
    }
}
