package io.pgrelay.server.testing;

import io.pgrelay.core.config.ProxyConfig;
import io.pgrelay.server.ConfigLoader;
import io.pgrelay.server.PgRelay;
import io.pgrelay.testkit.LocalCluster;
import io.pgrelay.testkit.LocalNode;
import io.pgrelay.testkit.TestCluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

/**
 * A pgrelay running in the test JVM in front of the {@link TestCluster}, configured from
 * YAML exactly as a user would. {@link #shared()} serves tests that need the default
 * configuration; tests with special settings start their own with {@link #start(String)}.
 */
public final class TestProxy implements AutoCloseable {
    private static TestProxy shared;
    private static int sharedResets;
    private static boolean shutdownHookAdded;

    private final PgRelay relay;
    private final LocalCluster cluster;
    private final Path configFile;

    private TestProxy(PgRelay relay, LocalCluster cluster, Path configFile) {
        this.relay = relay;
        this.cluster = cluster;
        this.configFile = configFile;
    }

    /**
     * The proxy shared by tests that do not change the cluster. It is replaced after a test
     * reset the cluster's topology: having watched promotions and split brains, it may have
     * fenced nodes, as a production proxy would.
     */
    public static synchronized TestProxy shared() {
        LocalCluster cluster = TestCluster.get();
        if (shared != null && sharedResets != cluster.resets()) {
            shared.close();
            shared = null;
        }
        if (shared == null) {
            sharedResets = cluster.resets();
            shared = start("");
            if (!shutdownHookAdded) {
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    synchronized (TestProxy.class) {
                        if (shared != null) {
                            shared.close();
                        }
                    }
                }, "test-proxy-shutdown"));
                shutdownHookAdded = true;
            }
        }
        return shared;
    }

    /** Starts a proxy; {@code extraYaml} holds top-level keys not set by the base configuration. */
    public static TestProxy start(String extraYaml) {
        return start(TestCluster.get(), extraYaml);
    }

    /** Starts a proxy in front of {@code cluster} (e.g. a dedicated one from {@link TestCluster#startDedicated()}). */
    public static TestProxy start(LocalCluster cluster, String extraYaml) {
        String yaml = yaml(cluster, extraYaml);
        ProxyConfig config = new ConfigLoader().parse(yaml);
        try {
            // The file a reload reads again (POST /api/v1/reload); rewrite it with configFile().
            Path file = Files.createTempFile("pgrelay-test-", ".yaml");
            file.toFile().deleteOnExit();
            Files.writeString(file, yaml);
            return new TestProxy(PgRelay.start(file, config), cluster, file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Writes a new configuration file, as {@link #start(String)} builds it from {@code extraYaml}; a reload reads it. */
    public void rewriteConfig(String extraYaml) {
        writeConfig(yaml(cluster, extraYaml));
    }

    /** Writes {@code yaml} as the configuration file, as it is (to test invalid files). */
    public void writeConfig(String yaml) {
        try {
            Files.writeString(configFile, yaml);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The configuration file this proxy was started from and reloads. */
    public Path configFile() {
        return configFile;
    }

    static String yaml(LocalCluster cluster, String extraYaml) {
        StringBuilder yaml = new StringBuilder();
        yaml.append("listen: 127.0.0.1:0\n");
        if (!extraYaml.contains("admin:")) {
            yaml.append("admin: { listen: 127.0.0.1:0, token: test-token }\n");
        }
        yaml.append("nodes:\n");
        for (LocalNode node : cluster.nodes()) {
            yaml.append("  - { name: ").append(node.name()).append(", host: ").append(node.host())
                    .append(", port: ").append(node.port()).append(" }\n");
        }
        if (!extraYaml.contains("auth:")) {
            yaml.append("""
                    auth:
                      users:
                        - { name: app, password: app }
                        - { name: app_md5, password: app_md5, method: md5 }
                        - { name: postgres, password: postgres }
                    """);
        }
        if (!extraYaml.contains("monitor:")) {
            yaml.append("monitor: { user: postgres, password: postgres, interval: 250ms }\n");
        }
        if (!extraYaml.contains("shutdown-timeout:")) {
            // A test that leaves a transaction open does not hold its proxy's close for the default 30 s.
            yaml.append("shutdown-timeout: 5s\n");
        }
        if (!extraYaml.contains("failover:")) {
            // Tests kill and stop nodes of the shared cluster on purpose (and restore them
            // themselves): a proxy of the same JVM must not promote a replica meanwhile.
            yaml.append("failover: { automatic: false }\n");
        }
        yaml.append(extraYaml);
        return yaml.toString();
    }

    public PgRelay relay() {
        return relay;
    }

    public LocalCluster cluster() {
        return cluster;
    }

    public String host() {
        return relay.address().getHostString();
    }

    public int port() {
        return relay.address().getPort();
    }

    /** The admin API's base address, e.g. {@code http://127.0.0.1:41234}. */
    public String adminUri() {
        return "http://" + relay.adminAddress().getHostString() + ":" + relay.adminAddress().getPort();
    }

    public String jdbcUrl(String database) {
        return "jdbc:postgresql://" + host() + ":" + port() + "/" + database;
    }

    /** A pgjdbc connection through the proxy as {@code app} to database {@code app}, TLS off. */
    public Connection connect() throws SQLException {
        return connect("app", "app", "app", new Properties());
    }

    public Connection connect(String database, String user, String password, Properties extra) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", user);
        props.setProperty("password", password);
        props.setProperty("sslmode", "disable");
        props.setProperty("connectTimeout", "10");
        props.putAll(extra);
        return DriverManager.getConnection(jdbcUrl(database), props);
    }

    /** The libpq connection string for psql/pgbench. */
    public String libpqUri(String user, String password, String database) {
        return "postgresql://" + user + ":" + password + "@" + host() + ":" + port() + "/" + database;
    }

    @Override
    public void close() {
        relay.close();
    }
}
