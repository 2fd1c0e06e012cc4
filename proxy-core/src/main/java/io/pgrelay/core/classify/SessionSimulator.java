package io.pgrelay.core.classify;

import java.util.HashMap;
import java.util.Map;

/**
 * The part of a session the classifier needs to resolve session-dependent statements: which
 * statements were PREPAREd and which cursors DECLAREd (and where they must run). The proxy's
 * session does this with its own state; this small model serves {@code pgrelay classify} (the
 * {@code setup} field of an input line) and tests. Not thread-safe.
 */
public final class SessionSimulator {
    private final Classifier classifier;
    private final boolean scs;
    private final Map<String, StatementFacts> prepared = new HashMap<>();
    private final Map<String, Route> cursors = new HashMap<>();

    public SessionSimulator(Classifier classifier, boolean standardConformingStrings) {
        this.classifier = classifier;
        this.scs = standardConformingStrings;
    }

    /** Records the session effects of {@code sql} as if it had run. */
    public void run(String sql) {
        for (StatementFacts statement : classifier.classify(sql, scs).statements()) {
            for (SessionEffect effect : statement.effects()) {
                if (effect instanceof SessionEffect.Prepare p) {
                    prepared.put(p.name(), p.statement());
                } else if (effect instanceof SessionEffect.Deallocate d) {
                    if (d.name() == null) {
                        prepared.clear();
                    } else {
                        prepared.remove(d.name());
                    }
                } else if (effect instanceof SessionEffect.DeclareCursor c) {
                    cursors.put(c.name(), statement.route());
                } else if (effect instanceof SessionEffect.CloseCursor c) {
                    if (c.name() == null) {
                        cursors.clear();
                    } else {
                        cursors.remove(c.name());
                    }
                } else if (effect instanceof SessionEffect.Discard d && d.scope() == SessionEffect.DiscardScope.ALL) {
                    prepared.clear();
                    cursors.clear();
                }
            }
        }
    }

    /**
     * Classifies {@code sql}; a single EXECUTE of a known prepared statement, or FETCH / MOVE of a
     * known cursor, takes the route of what was prepared / declared.
     */
    public Classification classify(String sql) {
        Classification c = classifier.classify(sql, scs);
        if (c.statementCount() != 1 || c.has(Trait.HINT_PRIMARY)) {
            return c;
        }
        StatementFacts statement = c.statements().get(0);
        SessionEffect.Execute execute = statement.effect(SessionEffect.Execute.class);
        SessionEffect.Fetch fetch = statement.effect(SessionEffect.Fetch.class);
        if (execute != null && statement.has(Trait.SESSION_OBJECT) && prepared.containsKey(execute.name())) {
            StatementFacts target = prepared.get(execute.name());
            Route route = statement.route().strictest(target.route());
            return new Classification(route, c.kind(), statement.reason() + " (resolved: " + target.reason() + ")",
                    c.traits(), c.statements());
        }
        if (fetch != null && cursors.containsKey(fetch.cursor())) {
            return new Classification(cursors.get(fetch.cursor()), c.kind(), statement.reason()
                    .replace("session-dependent", "resolved"), c.traits(), c.statements());
        }
        return c;
    }
}
