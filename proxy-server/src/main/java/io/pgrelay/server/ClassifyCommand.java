package io.pgrelay.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgrelay.core.classify.BuiltinCatalog;
import io.pgrelay.core.classify.Catalog;
import io.pgrelay.core.classify.CatalogService;
import io.pgrelay.core.classify.Classification;
import io.pgrelay.core.classify.Classifier;
import io.pgrelay.core.classify.ClassifierConfig;
import io.pgrelay.core.classify.JdbcConnectionSource;
import io.pgrelay.core.classify.SessionEffect;
import io.pgrelay.core.classify.SessionSimulator;
import io.pgrelay.core.classify.StatementFacts;
import io.pgrelay.core.config.ConfigException;
import io.pgrelay.core.config.HostPort;
import io.pgrelay.core.config.ProxyConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code pgrelay classify [--config FILE] [--database NAME]}: reads JSON lines with a {@code sql}
 * field on stdin and prints, per line, the input's fields plus {@code route}
 * ({@code primary|replica}), {@code kind}, {@code reason}, {@code traits}, {@code effects} (session effects, one object each), {@code statements} and
 * {@code fingerprint}. An optional {@code setup} field (statements run before on the same
 * connection) is fed to a session model first, so {@code EXECUTE} of a prepared statement or
 * {@code FETCH} from a declared cursor is resolved as the proxy's session resolves it.
 *
 * <p>Without {@code --config} the built-in PostgreSQL 15 catalog is used (functions and relations
 * it does not know go to the primary). With {@code --config}, the catalog of database
 * {@code --database} (default {@code postgres}, the database every cluster has) is loaded from the
 * configured cluster's primary — found with {@code SELECT pg_is_in_recovery()} over the configured
 * nodes, logging in with the monitor's credentials — by the same {@link CatalogService} and
 * {@code CatalogLoader} the running proxy uses, and {@code routing.*} settings apply.
 */
@Command(name = "classify", mixinStandardHelpOptions = true,
        description = "Classify SQL statements (JSON lines with a 'sql' field on stdin) as the proxy routes them.")
final class ClassifyCommand implements Callable<Integer> {
    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "YAML configuration: load the catalog from its cluster's primary")
    Path config;

    @Option(names = {"-d", "--database"}, paramLabel = "NAME", defaultValue = "postgres",
            description = "database whose catalog is loaded (default: ${DEFAULT-VALUE})")
    String database;

    @Option(names = "--standard-conforming-strings", paramLabel = "on|off", defaultValue = "on",
            description = "the session's standard_conforming_strings (default: ${DEFAULT-VALUE})")
    String standardConformingStrings;

    InputStream in = System.in;
    PrintStream out = System.out;
    PrintStream err = System.err;

    /** stdout carries the JSON lines: log to stderr instead. */
    private static void logToStderr() {
        if (!(org.slf4j.LoggerFactory.getILoggerFactory() instanceof ch.qos.logback.classic.LoggerContext ctx)) {
            return;
        }
        ch.qos.logback.classic.Logger root = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.detachAndStopAllAppenders();
        ch.qos.logback.classic.encoder.PatternLayoutEncoder encoder = new ch.qos.logback.classic.encoder.PatternLayoutEncoder();
        encoder.setContext(ctx);
        encoder.setPattern("%d{HH:mm:ss.SSS} %-5level %logger{24} - %msg%n");
        encoder.start();
        ch.qos.logback.core.ConsoleAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender =
                new ch.qos.logback.core.ConsoleAppender<>();
        appender.setContext(ctx);
        appender.setTarget("System.err");
        appender.setEncoder(encoder);
        appender.start();
        root.addAppender(appender);
    }

    @Override
    public Integer call() {
        logToStderr();
        boolean scs = !standardConformingStrings.equalsIgnoreCase("off")
                && !standardConformingStrings.equalsIgnoreCase("false");
        Catalog catalog = BuiltinCatalog.get();
        ClassifierConfig classifierConfig = ClassifierConfig.defaults();
        if (config != null) {
            ProxyConfig proxyConfig;
            try {
                proxyConfig = new ConfigLoader().load(config);
            } catch (ConfigException e) {
                err.println("pgrelay: " + config + ": " + e.getMessage());
                return 2;
            }
            classifierConfig = ClassifierConfig.from(proxyConfig.routing());
            List<HostPort> nodes = new ArrayList<>();
            for (ProxyConfig.NodeConfig n : proxyConfig.nodes()) {
                nodes.add(new HostPort(n.host(), n.port()));
            }
            ProxyConfig.MonitorConfig monitor = proxyConfig.monitor();
            try (CatalogService service = new CatalogService(new JdbcConnectionSource(() -> nodes, monitor.user(),
                    monitor.password(), monitor.connectTimeout()))) {
                catalog = service.loadBlocking(database);
            } catch (SQLException e) {
                err.println("pgrelay: cannot load the catalog of database " + database + " from the primary: "
                        + e.getMessage());
                return 3;
            }
        }
        err.println("pgrelay classify: " + catalog.describe());
        return run(new Classifier(catalog, classifierConfig), scs);
    }

    int run(Classifier classifier, boolean scs) {
        ObjectMapper mapper = new ObjectMapper();
        int bad = 0;
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (String line; (line = reader.readLine()) != null; ) {
                if (line.isBlank()) {
                    continue;
                }
                ObjectNode result;
                try {
                    JsonNode node = mapper.readTree(line);
                    if (!(node instanceof ObjectNode) || !node.hasNonNull("sql") || !node.get("sql").isTextual()) {
                        throw new IllegalArgumentException("expected a JSON object with a string field 'sql'");
                    }
                    result = (ObjectNode) node;
                    String sql = node.get("sql").asText();
                    SessionSimulator session = new SessionSimulator(classifier, scs);
                    if (node.hasNonNull("setup") && node.get("setup").isTextual()) {
                        session.run(node.get("setup").asText());
                    }
                    Classification c = session.classify(sql);
                    result.put("route", c.route().jsonName());
                    result.put("kind", c.kind().jsonName());
                    result.put("reason", c.reason());
                    ArrayNode traits = result.putArray("traits");
                    c.traits().toList().forEach(t -> traits.add(t.name()));
                    ArrayNode effects = result.putArray("effects");
                    for (StatementFacts statement : c.statements()) {
                        for (SessionEffect effect : statement.effects()) {
                            ObjectNode e = mapper.valueToTree(effect);
                            e.put("effect", effect.getClass().getSimpleName());
                            effects.add(e);
                        }
                    }
                    result.put("statements", c.statementCount());
                    result.put("fingerprint", Classifier.fingerprint(sql, scs).hex());
                } catch (Exception e) {
                    bad++;
                    result = mapper.createObjectNode();
                    result.put("error", e.getMessage() == null ? e.toString() : e.getMessage());
                    result.put("input", line);
                }
                out.println(mapper.writeValueAsString(result));
            }
        } catch (java.io.IOException e) {
            err.println("pgrelay: " + e.getMessage());
            return 1;
        }
        out.flush();
        return bad == 0 ? 0 : 1;
    }
}
