package io.pgrelay.core.reload;

/**
 * Re-reads the configuration file and applies it (SIGHUP, {@code POST /api/v1/reload}). Blocks
 * (reads files, builds TLS contexts, may add nodes over JDBC): never call it on an event loop.
 */
public interface ConfigReload {
    /**
     * @param actor who asked, for the log
     * @throws io.pgrelay.core.config.ConfigException when the file is invalid; nothing changed then
     */
    ReloadReport reload(String actor);
}
