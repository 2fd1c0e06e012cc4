package io.pgrelay.core.backend;

import io.pgrelay.protocol.message.backend.ErrorResponse;

import java.util.Locale;

/**
 * Errors a hot standby raises for work only a primary can do (see the corpus README for the
 * observed list). A statement that fails this way on a replica, before any of its result
 * reached the client, can be run again on the primary.
 */
public final class StandbyErrors {
    private StandbyErrors() {
    }

    public static boolean isStandbyOnly(ErrorResponse error) {
        String state = error.sqlState();
        if (state == null) {
            return false;
        }
        if (state.equals("25006")) {
            return true;
        }
        if (!(state.equals("0A000") || state.equals("55000") || state.equals("25001") || state.equals("XX000"))) {
            return false;
        }
        String message = error.message() == null ? "" : error.message().toLowerCase(Locale.ROOT);
        return message.contains("recovery") || message.contains("hot standby")
                || message.contains("read-write mode") || message.contains("not yet defined in this session");
    }
}
