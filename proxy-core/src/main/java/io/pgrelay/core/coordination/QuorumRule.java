package io.pgrelay.core.coordination;

import java.util.Collection;
import java.util.Map;

/**
 * When the leader may fail over: a strict majority of the live instances (those registered now)
 * report the primary down for the detection window. An instance that has published no report
 * counts as seeing it up, so an instance that only lost its own path to the primary, or that
 * cannot publish, never makes a majority alone.
 */
public final class QuorumRule {
    private QuorumRule() {
    }

    /** The verdict, with the figures for the log. */
    public record Verdict(boolean down, int seeingDown, int live) {
        public String describe(String primary) {
            return seeingDown + " of " + live + " live instance(s) see " + primary + " down"
                    + (down ? "" : " (a majority, " + (live / 2 + 1) + ", is needed)");
        }
    }

    public static Verdict primaryDown(String primary, Collection<String> liveMembers,
                                      Map<String, HealthReport> reports) {
        int seeing = 0;
        for (String member : liveMembers) {
            HealthReport report = reports.get(member);
            if (report != null && report.down().contains(primary)) {
                seeing++;
            }
        }
        int live = liveMembers.size();
        return new Verdict(live > 0 && seeing * 2 > live, seeing, live);
    }
}
