package io.pgrelay.core.cluster;

import java.time.Instant;

/**
 * A replica taken out of the read rotation for every session at once, with why and until when
 * (pgdog's bans): one session's connect timeout or the monitor's probe timeout is enough
 * evidence, so no other session has to wait out the same timeout to find the fault again. The
 * monitor lifts a ban with the first successful probe after its expiry; a probe that still
 * times out renews it.
 */
public record Ban(Cause cause, String detail, long sinceMillis, long untilMillis) {
    public enum Cause {
        /** The monitor's probe got no answer within {@code monitor.query-timeout}. */
        PROBE_TIMEOUT,
        /** A session could not connect and log in within {@code backend.connect-timeout}, or was refused. */
        CONNECT_FAILED,
        /** A backend sent nothing for {@code backend.query-timeout} while a request was outstanding. */
        QUERY_TIMEOUT;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        }
    }

    public boolean expired(long nowMillis) {
        return nowMillis >= untilMillis;
    }

    /** The later-ending of two bans (a renewed ban keeps its original start). */
    Ban renewedBy(Ban newer) {
        return new Ban(newer.cause, newer.detail, sinceMillis, Math.max(untilMillis, newer.untilMillis));
    }

    @Override
    public String toString() {
        return cause.label() + " until " + Instant.ofEpochMilli(untilMillis) + ": " + detail;
    }
}
