package io.pgrelay.server.packaging;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgrelay.core.config.ProxyConfig;
import io.pgrelay.core.config.ProxyConfig.UserConfig;
import io.pgrelay.server.ConfigLoader;
import io.pgrelay.server.packaging.ComposeFile.Service;
import io.pgrelay.server.packaging.Dockerfile.Stage;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * docker/Dockerfile, docker/compose.yml, docker/pgrelay.yml and packaging/systemd/pgrelay.service
 * agree with each other and with what the build makes: the jar path, the configuration file and
 * its ports, the scripts they run, the launcher's JVM options. No Docker engine runs here, so the
 * files are read as Docker, Compose and systemd read them; {@link HealthcheckScriptTest} runs the
 * health check against a live admin API.
 */
class PackagingTest {
    /**
     * The graceful shutdown the stop timeouts must outlast: pgrelay's default shutdown timeout
     * (SIGTERM: sessions get that long to finish) plus the time to close the rest.
     */
    private static final Duration GRACEFUL_SHUTDOWN = Duration.ofSeconds(30 + 10);
    private static final Pattern MAVEN_JDK = Pattern.compile("maven:\\S*?-(\\d+)(?:-\\S*)?");
    private static final Pattern RUNTIME_JRE = Pattern.compile("eclipse-temurin:(17|21)(?:\\.[\\d._]+)?-jre(?:-\\S+)?");
    private static final Pattern ENV_ENTRY = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)=(\"(?:[^\"\\\\]|\\\\.)*\"|\\S*)");
    private static final Pattern SYSTEMD_ASSIGNMENT = Pattern.compile("\"([^\"]*)\"|(\\S+=\\S*)");
    private static final Pattern QUICK_START = Pattern.compile(
            "psql postgresql://(\\w+):(\\w+)@127\\.0\\.0\\.1:(\\d+)/(\\w+)(?=\\s)");
    private static final Pattern REQUIRED_VARIABLE = Pattern.compile("\\$\\{([A-Z_][A-Z0-9_]*):\\?");
    private static final Pattern USED_VARIABLE = Pattern.compile("\\$\\{?([A-Z_][A-Z0-9_]*)");
    /** Set by the postgres image (PGDATA) and by its entrypoint for initdb scripts. */
    private static final Set<String> POSTGRES_IMAGE_VARIABLES = Set.of("POSTGRES_USER", "POSTGRES_DB", "PGDATA");
    private static final String INITDB_DIR = "/docker-entrypoint-initdb.d/";
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Dockerfile dockerfile;
    private static ComposeFile compose;
    private static Service pgrelay;
    private static ProxyConfig config;

    @BeforeAll
    static void read() throws Exception {
        dockerfile = Dockerfile.read(Repository.file("docker/Dockerfile"));
        // As a user who set none of the variables runs it: the defaults in compose.yml apply.
        compose = ComposeFile.read(Repository.file("docker/compose.yml"), name -> null);
        pgrelay = compose.service("pgrelay");
        Map<String, String> environment = new HashMap<>(imageEnvironment());
        environment.putAll(pgrelay.environment());
        // the file the image holds; composeBuildsTheImageAndMountsTheConfigurationItRuns: compose mounts the same
        config = new ConfigLoader(environment::get).load(Repository.file("docker/pgrelay.yml"));
    }

    // ------------------------------------------------------------------ Dockerfile

    @Test
    void theBuildStageBuildsTheJarTheRuntimeStageCopies() throws Exception {
        Stage build = dockerfile.stage("build");
        Matcher jdk = MAVEN_JDK.matcher(build.image());
        assertThat(jdk.matches()).as("the build stage uses the official maven image with a JDK tag: " + build.image())
                .isTrue();
        assertThat(Integer.parseInt(jdk.group(1))).as("the JDK of " + build.image()).isGreaterThanOrEqualTo(17);
        assertThat(build.all("RUN")).as("the build stage runs mvn -B -DskipTests package")
                .anySatisfy(run -> assertThat(words(run)).contains("mvn", "-B", "-DskipTests", "package"));
        assertThat(build.all("COPY")).as("the whole context (the repository root) goes into the build")
                .anySatisfy(copy -> assertThat(copyArguments(copy)).first().isEqualTo("."));

        String workdir = build.last("WORKDIR").orElse("/");
        String built = Path.of(workdir).resolve(Repository.builtJar()).toString();
        assertThat(copiesFrom("build")).as("the runtime stage copies the jar mvn package makes, " + built)
                .containsKey(built);
        assertThat(Repository.launcherJar()).as("bin/pgrelay runs the same jar").isEqualTo(Repository.builtJar());

        Matcher jre = RUNTIME_JRE.matcher(dockerfile.runtime().image());
        assertThat(jre.matches()).as("a slim JRE runtime: " + dockerfile.runtime().image()).isTrue();
    }

    @Test
    void everyFileTheImageCopiesExistsInTheBuildContext() throws Exception {
        Map<String, String> copies = copiesFrom(null);
        assertThat(copies).isNotEmpty();
        List<String> ignored = Files.readAllLines(Repository.file(".dockerignore"));
        for (String source : copies.keySet()) {
            assertThat(Repository.ROOT.resolve(source)).as("COPY " + source).exists();
            assertThat(ignored).as(".dockerignore must not exclude " + source).doesNotContain(source);
        }
        assertThat(ignored).as(".dockerignore keeps local build output out of the build").contains("**/target");
        assertThat(copies).containsEntry("conf/logback.xml", logbackPath()).containsEntry("docker/pgrelay.yml",
                configPath());
    }

    @Test
    void theImageRunsTheJarAsANonRootUserWithTheLaunchersJvmOptions() throws Exception {
        Stage runtime = dockerfile.runtime();
        String user = runtime.last("USER").orElseThrow(() -> new AssertionError("no USER in the runtime stage"));
        String uid = user.split(":")[0];
        assertThat(uid).as("USER").isNotIn("root", "0");
        assertThat(runtime.all("RUN")).as("the user is created with uid " + uid)
                .anySatisfy(run -> assertThat(words(run)).contains("useradd", "--uid", uid));

        List<String> entrypoint = jsonWords(runtime.last("ENTRYPOINT").orElseThrow());
        String command = String.join(" ", entrypoint);
        String jar = copiesFrom("build").get(Path.of(dockerfile.stage("build").last("WORKDIR").orElse("/"))
                .resolve(Repository.builtJar()).toString());
        assertThat(command).as("ENTRYPOINT").contains("exec java $PGRELAY_JAVA_OPTS ")
                .contains("-Dlogback.configurationFile=" + logbackPath() + " ")
                .contains("-jar " + jar + " ");
        assertThat(words(imageEnvironment().get("PGRELAY_JAVA_OPTS"))).as("the JVM options of bin/pgrelay")
                .containsAll(Repository.launcherJvmOptions());
        assertThat(runtime.last("STOPSIGNAL")).hasValue("SIGTERM");
    }

    @Test
    void theImageExposesTheConfiguredPortsOnAllInterfaces() {
        Set<Integer> exposed = new LinkedHashSet<>();
        for (String expose : dockerfile.runtime().all("EXPOSE")) {
            for (String port : words(expose)) {
                exposed.add(Integer.parseInt(port.replace("/tcp", "")));
            }
        }
        assertThat(exposed).containsExactlyInAnyOrder(config.listen().port(), config.admin().listen().port());
        assertThat(config.listen().host()).as("listen: reachable from outside the container").isEqualTo("0.0.0.0");
        assertThat(config.admin().listen().host()).as("admin.listen").isEqualTo("0.0.0.0");
    }

    @Test
    void theHealthCheckIsTheScriptTheImageCopiesAndAsksTheConfiguredAdminPort() throws Exception {
        String healthcheck = dockerfile.runtime().last("HEALTHCHECK")
                .orElseThrow(() -> new AssertionError("no HEALTHCHECK"));
        int cmd = healthcheck.indexOf("CMD ");
        assertThat(cmd).as("HEALTHCHECK ... CMD").isPositive();
        String program = jsonWords(healthcheck.substring(cmd + 4).strip()).get(0);
        String script = copiesFrom(null).entrySet().stream().filter(e -> e.getValue().equals(program))
                .map(Map.Entry::getKey).findFirst()
                .orElseThrow(() -> new AssertionError("HEALTHCHECK runs " + program + ", which no COPY puts there"));
        assertThat(script).isEqualTo(HealthcheckScriptTest.SCRIPT);
        assertThat(Files.isExecutable(Repository.file(script))).as(script + " is executable").isTrue();
        assertThat(Files.readString(Repository.file(script))).contains("GET " + HealthcheckScriptTest.HEALTH_PATH + " ")
                .contains("PGRELAY_ADMIN_PORT");
        assertThat(Integer.parseInt(imageEnvironment().get("PGRELAY_ADMIN_PORT")))
                .as("the port the health check asks is admin.listen's").isEqualTo(config.admin().listen().port());
    }

    // ------------------------------------------------------------------ compose.yml

    @Test
    void composeBuildsTheImageAndMountsTheConfigurationItRuns() throws Exception {
        Map<String, Object> build = pgrelay.section("build");
        Path context = compose.directory().resolve(String.valueOf(build.get("context"))).normalize();
        assertThat(context).as("build context").isEqualTo(Repository.ROOT);
        assertThat(context.resolve(String.valueOf(build.get("dockerfile"))).normalize())
                .isEqualTo(Repository.file("docker/Dockerfile"));
        assertThat(composeSource(pgrelay, configPath())).as("the mounted configuration is the one the image holds")
                .isEqualTo(Repository.file("docker/pgrelay.yml"));
        assertThat(publishedPorts(pgrelay).values()).as("container ports published")
                .containsExactlyInAnyOrder(config.listen().port(), config.admin().listen().port());
        assertThat(ConfigLoader.parseDuration(pgrelay.string("stop_grace_period").orElse("10s")))
                .as("stop_grace_period outlasts a graceful shutdown").isGreaterThan(GRACEFUL_SHUTDOWN);
    }

    @Test
    void everyConfiguredNodeIsAPostgresServiceAndTheReplicasCloneTheOneThatInitializes() throws Exception {
        List<Service> initializing = new ArrayList<>();
        List<Service> cloning = new ArrayList<>();
        for (ProxyConfig.NodeConfig node : config.nodes()) {
            Service service = compose.service(node.host());
            assertThat(service.string("image")).as(node.name() + " image").hasValueSatisfying(
                    image -> assertThat(image).startsWith("postgres:"));
            assertThat(node.port()).as(node.name() + " port: the server's inside the network").isEqualTo(5432);
            assertThat(service.settings()).as(node.name() + " has a health check").containsKey("healthcheck");
            assertThat(pgrelay.dependsOn()).as("pgrelay waits for " + node.name())
                    .containsEntry(service.name(), "service_healthy");
            (service.words("entrypoint").isEmpty() ? initializing : cloning).add(service);
        }
        assertThat(initializing).as("one node initializes the cluster with the image's entrypoint").hasSize(1);
        Service primary = initializing.get(0);
        List<String> inits = volumeTargets(primary).stream().filter(t -> t.startsWith(INITDB_DIR)).toList();
        assertThat(inits).as(primary.name() + " mounts an init script").hasSize(1);
        Path init = composeSource(primary, inits.get(0));
        assertThat(Files.isExecutable(init)).as(init + " is executable").isTrue();
        assertThat(variablesUsed(init)).as("what " + init + " reads is set").isSubsetOf(
                union(primary.environment().keySet(), POSTGRES_IMAGE_VARIABLES));

        assertThat(cloning).as("the other nodes start as replicas").hasSize(config.nodes().size() - 1);
        for (Service replica : cloning) {
            Path script = composeSource(replica, replica.words("entrypoint").get(0));
            assertThat(Files.isExecutable(script)).as(script + " is executable").isTrue();
            assertThat(Files.readString(script)).contains("pg_basebackup").contains("--write-recovery-conf")
                    .contains("exec docker-entrypoint.sh \"$@\"");
            Map<String, String> env = replica.environment();
            assertThat(requiredVariables(script)).as("what " + script + " requires is set for " + replica.name())
                    .isSubsetOf(union(env.keySet(), POSTGRES_IMAGE_VARIABLES));
            assertThat(env).containsEntry("NODE_NAME", replica.name()).containsEntry("PRIMARY_HOST", primary.name())
                    .containsEntry("REPLICATION_PASSWORD", primary.environment().get("REPLICATION_PASSWORD"));
            assertThat(replica.dependsOn()).containsEntry(primary.name(), "service_healthy");
            assertThat(replica.words("command")).as("same server settings as " + primary.name())
                    .isEqualTo(primary.words("command"));
        }
    }

    @Test
    void theQuickStartConnectionWorksWithTheCredentialsComposeSets() throws Exception {
        Matcher url = QUICK_START.matcher(Files.readString(Repository.file("docker/compose.yml")));
        assertThat(url.find()).as("compose.yml says how to connect (psql postgresql://...)").isTrue();
        String user = url.group(1);
        String password = url.group(2);
        int port = Integer.parseInt(url.group(3));
        String database = url.group(4);

        assertThat(publishedPorts(pgrelay)).as("published on the host's port " + port)
                .containsEntry("127.0.0.1:" + port, config.listen().port());
        UserConfig client = config.auth().user(user);
        assertThat(client).as("auth.users has " + user).isNotNull();
        assertThat(client.password()).isEqualTo(password);
        Service primary = compose.service(config.nodes().get(0).host());
        Map<String, String> env = primary.environment();
        assertThat(env.get("APP_PASSWORD")).as("the backend role's password is the client's").isEqualTo(password);
        String init = Files.readString(composeSource(primary, volumeTargets(primary).stream()
                .filter(t -> t.startsWith(INITDB_DIR)).findFirst().orElseThrow()));
        assertThat(init).contains("CREATE ROLE " + user + " WITH LOGIN PASSWORD :'app_password'")
                .contains("CREATE DATABASE " + database + " OWNER " + user)
                .contains("--set app_password=\"$APP_PASSWORD\"");

        assertThat(config.monitor().user()).as("the monitor is the image's superuser")
                .isEqualTo(env.getOrDefault("POSTGRES_USER", "postgres"));
        assertThat(config.monitor().password()).isEqualTo(env.get("POSTGRES_PASSWORD"));
        List<String> consoleUsers = config.admin().consoleUsers();
        assertThat(consoleUsers).as("the SQL console has a user").isNotEmpty();
        for (String consoleUser : consoleUsers) {
            assertThat(config.auth().user(consoleUser)).as("console user " + consoleUser + " can log in").isNotNull();
        }
        assertThat(config.admin().token()).as("admin token").isNotBlank();
    }

    // ------------------------------------------------------------------ systemd

    @Test
    void theSystemdUnitRunsTheInstalledJarAsTheImageDoes() throws Exception {
        SystemdUnit unit = SystemdUnit.read(Repository.file("packaging/systemd/pgrelay.service"));
        assertThat(unit.value("Service", "User")).isNotIn("root", "0");
        Map<String, String> environment = new LinkedHashMap<>();
        for (String assignments : unit.values("Service", "Environment")) {
            // systemd.exec: assignments separated by spaces, each one double-quoted as a whole or not at all
            Matcher m = SYSTEMD_ASSIGNMENT.matcher(assignments);
            while (m.find()) {
                String assignment = m.group(1) != null ? m.group(1) : m.group(2);
                int equals = assignment.indexOf('=');
                environment.put(assignment.substring(0, equals), assignment.substring(equals + 1));
            }
        }
        assertThat(words(environment.get("PGRELAY_JAVA_OPTS"))).as("the JVM options of bin/pgrelay")
                .containsAll(Repository.launcherJvmOptions());

        List<String> exec = words(unit.value("Service", "ExecStart"));
        assertThat(Path.of(exec.get(0))).as("ExecStart runs java by its absolute path").isAbsolute();
        assertThat(exec.get(0)).endsWith("/java");
        assertThat(exec).contains("$PGRELAY_JAVA_OPTS").containsSubsequence("-jar",
                "/opt/pgrelay/" + Path.of(Repository.builtJar()).getFileName(), "run", "--config", configPath());
        assertThat(exec).contains("-Dlogback.configurationFile=" + logbackPath());

        assertThat(unit.value("Service", "ExecReload")).as("reload = SIGHUP").matches("/bin/kill -(HUP|s HUP) \\$MAINPID");
        assertThat(unit.value("Service", "KillSignal")).isEqualTo("SIGTERM");
        assertThat(ConfigLoader.parseDuration(unit.value("Service", "TimeoutStopSec")))
                .as("TimeoutStopSec outlasts a graceful shutdown").isGreaterThan(GRACEFUL_SHUTDOWN);
        assertThat(unit.value("Service", "Restart")).isEqualTo("on-failure");
        assertThat(Long.parseLong(unit.value("Service", "LimitNOFILE"))).isGreaterThanOrEqualTo(65536);
        assertThat(unit.value("Service", "SuccessExitStatus")).as("the JVM's exit status after SIGTERM is success")
                .contains("143");
        assertThat(unit.value("Install", "WantedBy")).isEqualTo("multi-user.target");
    }

    // ------------------------------------------------------------------ helpers

    /** ENV of the runtime stage. */
    private static Map<String, String> imageEnvironment() {
        Map<String, String> env = new LinkedHashMap<>();
        for (String entry : dockerfile.runtime().all("ENV")) {
            Matcher m = ENV_ENTRY.matcher(entry);
            while (m.find()) {
                String value = m.group(2);
                env.put(m.group(1), value.startsWith("\"") ? value.substring(1, value.length() - 1) : value);
            }
        }
        return env;
    }

    /** The file the image runs with: CMD's --config. */
    private static String configPath() throws Exception {
        List<String> cmd = jsonWords(dockerfile.runtime().last("CMD").orElseThrow(() -> new AssertionError("no CMD")));
        int option = cmd.indexOf("--config");
        assertThat(option).as("CMD names the configuration with --config: " + cmd).isNotNegative();
        return cmd.get(option + 1);
    }

    private static String logbackPath() {
        return copiesFrom(null).get("conf/logback.xml");
    }

    /** COPY sources (relative to the context, or the stage's paths with --from) to their destinations. */
    private static Map<String, String> copiesFrom(String stage) {
        Map<String, String> copies = new LinkedHashMap<>();
        for (String copy : dockerfile.runtime().all("COPY")) {
            List<String> words = words(copy);
            String from = words.stream().filter(w -> w.startsWith("--from=")).map(w -> w.substring(7)).findFirst()
                    .orElse(null);
            if (stage == null ? from == null : stage.equals(from)) {
                List<String> arguments = copyArguments(copy);
                String destination = arguments.get(arguments.size() - 1);
                for (String source : arguments.subList(0, arguments.size() - 1)) {
                    copies.put(source, destination);
                }
            }
        }
        return copies;
    }

    private static List<String> copyArguments(String copy) {
        return words(copy).stream().filter(w -> !w.startsWith("--")).toList();
    }

    /** The host file a service mounts at {@code target}, resolved as Compose does (relative to compose.yml). */
    private static Path composeSource(Service service, String target) {
        for (String volume : service.list("volumes")) {
            String[] parts = volume.split(":");
            if (parts.length >= 2 && parts[1].equals(target)) {
                assertThat(parts[0]).as(service.name() + " mounts a file at " + target).startsWith(".");
                Path source = compose.directory().resolve(parts[0]).normalize();
                assertThat(source).as("what " + service.name() + " mounts at " + target).isRegularFile();
                return source;
            }
        }
        throw new AssertionError(service.name() + " mounts nothing at " + target + ": " + service.list("volumes"));
    }

    private static List<String> volumeTargets(Service service) {
        return service.list("volumes").stream().map(v -> v.split(":")).filter(p -> p.length >= 2).map(p -> p[1])
                .toList();
    }

    /** Published ports: host address:port to the container port. */
    private static Map<String, Integer> publishedPorts(Service service) {
        Map<String, Integer> ports = new LinkedHashMap<>();
        for (String mapping : service.list("ports")) {
            String[] parts = mapping.replace("/tcp", "").split(":");
            String host = parts.length == 3 ? parts[0] + ":" + parts[1] : "0.0.0.0:" + parts[0];
            ports.put(host, Integer.parseInt(parts[parts.length - 1]));
        }
        return ports;
    }

    private static Set<String> requiredVariables(Path script) throws Exception {
        return matches(REQUIRED_VARIABLE, Files.readString(script));
    }

    private static Set<String> variablesUsed(Path script) throws Exception {
        return matches(USED_VARIABLE, Files.readString(script));
    }

    private static Set<String> matches(Pattern pattern, String text) {
        Set<String> found = new LinkedHashSet<>();
        Matcher m = pattern.matcher(text);
        while (m.find()) {
            found.add(m.group(1));
        }
        return found;
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> all = new LinkedHashSet<>(a);
        all.addAll(b);
        return all;
    }

    private static List<String> words(String text) {
        return text == null || text.isBlank() ? List.of() : Arrays.asList(text.strip().split("\\s+"));
    }

    /** A JSON-form (exec) argument list, e.g. CMD ["run", "--config", "/etc/pgrelay/pgrelay.yml"]. */
    private static List<String> jsonWords(String arguments) throws Exception {
        assertThat(arguments).as("exec form").startsWith("[");
        return Arrays.asList(JSON.readValue(arguments, String[].class));
    }
}
