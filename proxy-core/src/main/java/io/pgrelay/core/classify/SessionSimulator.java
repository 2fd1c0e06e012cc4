package io.pgrelay.core.classify;

import java.util.HashMap;
import java.util.List;
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
    private final Map<String, Classification> prepared = new HashMap<>();
    private final Map<String, Classification> cursors = new HashMap<>();

    public SessionSimulator(Classifier classifier, boolean standardConformingStrings) {
        this.classifier = classifier;
        this.scs = standardConformingStrings;
    }

    /** Records the session effects of {@code sql} as if it had run. */
    public void run(String sql) {
        for (StatementInfo s : classifier.analyze(sql, scs)) {
            StatementInfo.Details d = s.details();
            if (d instanceof StatementInfo.PrepareDetails p) {
                prepared.put(p.name(), p.classification());
            } else if (d instanceof StatementInfo.DeallocateDetails p) {
                if (p.name() == null) {
                    prepared.clear();
                } else {
                    prepared.remove(p.name());
                }
            } else if (d instanceof StatementInfo.DeclareDetails c) {
                cursors.put(c.name(), s.classification());
            } else if (d instanceof StatementInfo.CloseDetails c) {
                if (c.name() == null) {
                    cursors.clear();
                } else {
                    cursors.remove(c.name());
                }
            } else if (s.classification().has(Effects.DISCARD)) {
                prepared.clear();
                cursors.clear();
            }
        }
    }

    /**
     * Classifies {@code sql}; a single EXECUTE of a known prepared statement, or FETCH / MOVE of a
     * known cursor, takes the route of what was prepared / declared.
     */
    public Classification classify(String sql) {
        Classification c = classifier.classify(sql, scs);
        if (c.statementCount() != 1 || !(c.has(Effects.EXECUTE) || c.has(Effects.FETCH)) || c.has(Effects.HINT_PRIMARY)) {
            return c;
        }
        List<StatementInfo> infos = classifier.analyze(sql, scs);
        if (infos.size() != 1) {
            return c;
        }
        StatementInfo.Details d = infos.get(0).details();
        Classification target = null;
        if (d instanceof StatementInfo.ExecuteDetails e && c.reason().contains("EXECUTE (session-dependent)")) {
            target = prepared.get(e.name());
        } else if (d instanceof StatementInfo.FetchDetails f) {
            target = cursors.get(f.cursor());
        }
        if (target == null) {
            return c;
        }
        return new Classification(target.route(), c.kind(), c.reason().replace("session-dependent",
                "resolved: " + target.reason()), c.effects(), 1);
    }
}
