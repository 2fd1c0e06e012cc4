package io.pgrelay.core.session;

import io.pgrelay.core.cluster.Lsn;
import io.pgrelay.protocol.SqlState;
import io.pgrelay.protocol.message.backend.ErrorResponse;

import java.util.Locale;
import java.util.function.IntSupplier;

/**
 * The session's own pgrelay settings: {@code pgrelay.route}, {@code pgrelay.consistency},
 * {@code pgrelay.min_lsn} and the read-only {@code pgrelay.last_lsn}. Set by statements pgrelay
 * answers itself, or in the startup packet ({@code -c pgrelay.route=primary}).
 */
final class ProxySettings {
    /** Where a session's statements may go, as chosen with {@code pgrelay.route}. */
    enum RouteOverride { AUTO, PRIMARY, REPLICA }

    private final Consistency defaultConsistency;
    private final CausalState causal;
    private final IntSupplier primaryTimeline;
    private RouteOverride routeOverride = RouteOverride.AUTO;

    ProxySettings(Consistency defaultConsistency, CausalState causal, IntSupplier primaryTimeline) {
        this.defaultConsistency = defaultConsistency;
        this.causal = causal;
        this.primaryTimeline = primaryTimeline;
    }

    RouteOverride routeOverride() {
        return routeOverride;
    }

    /** Sets {@code name} ({@code value} null resets it); the error the server would give, or null. */
    ErrorResponse set(String name, String value) {
        switch (name) {
            case "pgrelay.route" -> {
                RouteOverride override = value == null ? RouteOverride.AUTO : parseRoute(value);
                if (override == null) {
                    return invalidValue(name, value, "primary | replica | auto");
                }
                routeOverride = override;
            }
            case "pgrelay.consistency" -> {
                Consistency mode = value == null ? defaultConsistency : Consistency.parse(value);
                if (mode == null) {
                    return invalidValue(name, value, "causal | eventual | global");
                }
                causal.mode(mode);
            }
            case "pgrelay.min_lsn" -> {
                if (value != null) {
                    long lsn;
                    try {
                        lsn = Lsn.parse(value.trim());
                    } catch (IllegalArgumentException e) {
                        return invalidValue(name, value, "a WAL position such as 0/3000060");
                    }
                    causal.require(lsn, primaryTimeline.getAsInt());
                }
            }
            case "pgrelay.last_lsn" -> {
                return ErrorResponse.error(SqlState.CANT_CHANGE_RUNTIME_PARAM,
                        "parameter \"pgrelay.last_lsn\" cannot be changed");
            }
            default -> {
                return unknown(name);
            }
        }
        return null;
    }

    /** The value of {@code name}, or null when there is no such setting. */
    String show(String name) {
        return switch (name) {
            case "pgrelay.route" -> routeOverride.name().toLowerCase(Locale.ROOT);
            case "pgrelay.consistency" -> causal.mode().label();
            case "pgrelay.min_lsn" -> Lsn.format(causal.requiredLsn());
            case "pgrelay.last_lsn" -> Lsn.format(causal.lastLsn());
            default -> null;
        };
    }

    static ErrorResponse unknown(String name) {
        return ErrorResponse.error(SqlState.UNDEFINED_OBJECT, "unrecognized configuration parameter \"" + name + "\"");
    }

    private static RouteOverride parseRoute(String value) {
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "primary" -> RouteOverride.PRIMARY;
            case "replica" -> RouteOverride.REPLICA;
            case "auto", "default" -> RouteOverride.AUTO;
            default -> null;
        };
    }

    private static ErrorResponse invalidValue(String name, String value, String allowed) {
        return ErrorResponse.error(SqlState.INVALID_PARAMETER_VALUE, "invalid value for parameter \"" + name
                + "\": \"" + value + "\" (" + allowed + ")");
    }
}
