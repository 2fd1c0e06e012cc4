package io.pgrelay.server;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * SIGHUP → reload, as PostgreSQL and PgBouncer do. The JDK has no supported API for catching a
 * signal; {@code sun.misc.Signal} (module jdk.unsupported, kept for exactly this use) is the one
 * that exists. The handler only hands the work to {@code action}'s thread: it must not block
 * the JVM's signal dispatcher.
 */
final class HangupSignal {
    private static final Logger log = LoggerFactory.getLogger(HangupSignal.class);

    private HangupSignal() {
    }

    /** Installs the handler; false (logged) where the platform has no SIGHUP. */
    static boolean onHangup(Runnable action) {
        try {
            Signal.handle(new Signal("HUP"), signal -> action.run());
            return true;
        } catch (IllegalArgumentException e) {
            log.warn("SIGHUP cannot be caught here ({}); reload with POST /api/v1/reload", e.getMessage());
            return false;
        }
    }
}
