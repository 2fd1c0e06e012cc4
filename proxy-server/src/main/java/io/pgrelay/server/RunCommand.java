package io.pgrelay.server;

import io.pgrelay.core.config.ConfigException;
import io.pgrelay.core.config.ProxyConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code pgrelay run --config FILE}: the proxy in the foreground until SIGINT/SIGTERM, which stop
 * it gracefully (sessions finish their transaction, up to {@code shutdown-timeout}); SIGHUP
 * reloads the file.
 */
@Command(name = "run", mixinStandardHelpOptions = true, description = "Start the proxy in the foreground.")
final class RunCommand implements Callable<Integer> {
    @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE", description = "YAML configuration file")
    Path config;

    @Override
    public Integer call() throws Exception {
        ProxyConfig proxyConfig;
        try {
            proxyConfig = new ConfigLoader().load(config);
        } catch (ConfigException e) {
            System.err.println("pgrelay: " + config + ": " + e.getMessage());
            return 2;
        }
        PgRelay relay = PgRelay.start(config, proxyConfig);
        relay.reloadOnHangup();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            relay.close();
            stopped.countDown();
        }, "pgrelay-shutdown"));
        stopped.await();
        return 0;
    }
}
