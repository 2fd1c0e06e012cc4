package io.pgrelay.server;

import io.pgrelay.core.ProxyServer;
import io.pgrelay.core.config.ConfigException;
import io.pgrelay.core.config.ProxyConfig;
import io.pgrelay.core.reload.ConfigReload;
import io.pgrelay.core.reload.ReloadReport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;

/**
 * Re-reads the configuration file into the running proxy (SIGHUP, {@code POST /api/v1/reload}).
 * One reload at a time; each one is logged with what it changed, or why it changed nothing.
 */
final class ConfigReloader implements ConfigReload {
    private static final Logger log = LoggerFactory.getLogger(ConfigReloader.class);

    private final Path file;
    private final ProxyServer proxy;
    private final LogLevels logLevels;

    ConfigReloader(Path file, ProxyServer proxy, LogLevels logLevels) {
        this.file = file;
        this.proxy = proxy;
        this.logLevels = logLevels;
    }

    @Override
    public synchronized ReloadReport reload(String actor) {
        ReloadReport report;
        try {
            ProxyConfig next = new ConfigLoader().load(file);
            report = proxy.reload(next, actor);
        } catch (ConfigException e) {
            log.warn("configuration reload ({}) of {} refused, nothing changed: {}", actor, file, e.getMessage());
            throw e;
        }
        logLevels.apply(proxy.config().logLevels());
        if (report.restartRequired().isEmpty()) {
            log.info("configuration reloaded ({}) from {}: {}", actor, file, report.summary());
        } else {
            log.warn("configuration reloaded ({}) from {}: {}", actor, file, report.summary());
        }
        return report;
    }
}
