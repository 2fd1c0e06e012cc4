package io.pgrelay.server;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Applies {@code log-levels} to logback, at start and on every reload. A logger dropped from
 * the map gets back the level it had before pgrelay first set it (usually from logback.xml).
 */
final class LogLevels {
    private final Map<String, Level> original = new HashMap<>();
    private Set<String> applied = Set.of();

    synchronized void apply(Map<String, String> levels) {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return; // another slf4j binding: it has its own configuration
        }
        for (String name : applied) {
            if (!levels.containsKey(name)) {
                logger(context, name).setLevel(original.get(name));
            }
        }
        for (Map.Entry<String, String> entry : levels.entrySet()) {
            Logger logger = logger(context, entry.getKey());
            if (!original.containsKey(entry.getKey())) {
                original.put(entry.getKey(), logger.getLevel());
            }
            logger.setLevel(Level.toLevel(entry.getValue()));
        }
        applied = Set.copyOf(levels.keySet());
    }

    private static Logger logger(LoggerContext context, String name) {
        return context.getLogger("root".equalsIgnoreCase(name) ? org.slf4j.Logger.ROOT_LOGGER_NAME : name);
    }
}
