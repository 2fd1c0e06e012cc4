package io.pgrelay.server.demo;

import io.pgrelay.testkit.Processes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The build {@code bin/pgrelay} runs when the jar is missing prints no terminal colour codes. The
 * launcher runs in a copy of the checkout without jars, with a {@code mvn} that records how it was
 * called; the real Maven then runs the checkout's reactor with exactly those options (goal
 * {@code validate}, so nothing is built twice) and its output must hold no escape sequence. (Maven
 * 3.8 writes reset codes even into a pipe unless told not to: {@code -Dstyle.color=never} and
 * {@code -Djansi.noreset=true}.)
 */
class LauncherFirstRunIT {
    private static final Duration TIMEOUT = Duration.ofMinutes(3);
    private static final String ESC = "\u001b";

    @Test
    void theFirstRunBuildPrintsNoColourCodes(@TempDir Path checkout) throws Exception {
        Path launcher = Path.of("..", "bin", "pgrelay").toAbsolutePath().normalize();
        Path root = launcher.getParent().getParent();
        Files.createDirectories(checkout.resolve("bin"));
        Files.copy(launcher, checkout.resolve("bin/pgrelay"));
        Path tools = Files.createDirectories(checkout.resolve("tools"));
        Path record = checkout.resolve("mvn-call");
        Path fakeMaven = tools.resolve("mvn");
        Files.writeString(fakeMaven, """
                #!/bin/sh
                pwd > "$RECORD.dir"
                printf '%s\\n' "$@" > "$RECORD.args"
                printf '%s' "${MAVEN_OPTS:-}" > "$RECORD.opts"
                """);
        Files.setPosixFilePermissions(fakeMaven, PosixFilePermissions.fromString("rwxr-xr-x"));

        Processes.Result run = Processes.run(List.of(checkout.resolve("bin/pgrelay").toString(), "--version"),
                Map.of("PATH", tools + File.pathSeparator + System.getenv("PATH"), "RECORD", record.toString()),
                null, TIMEOUT);
        assertThat(run.stderr()).as("the launcher says it builds").contains("(first run)");
        assertThat(run.output()).as("launcher output").doesNotContain(ESC);
        assertThat(Path.of(Files.readString(Path.of(record + ".dir")).strip())).as("Maven runs in the checkout")
                .isEqualTo(checkout.toRealPath());
        List<String> arguments = Files.readAllLines(Path.of(record + ".args"));
        assertThat(arguments).as("mvn arguments").contains("-B", "-Dstyle.color=never", "-DskipTests", "package");
        String mavenOpts = Files.readString(Path.of(record + ".opts")).strip();

        List<String> validate = new ArrayList<>();
        validate.add(realMaven(tools));
        arguments.stream().map(a -> a.equals("package") ? "validate" : a).forEach(validate::add);
        Processes.Result maven = Processes.run(withPom(validate, root), Map.of("MAVEN_OPTS", mavenOpts), null,
                TIMEOUT);
        assertThat(maven.exitCode()).as(maven.output()).isZero();
        assertThat(maven.output()).as("Maven's output with the launcher's options").doesNotContain(ESC);
    }

    private static List<String> withPom(List<String> command, Path root) {
        List<String> all = new ArrayList<>(command);
        all.addAll(List.of("-f", root.resolve("pom.xml").toString()));
        return all;
    }

    /** The mvn on PATH other than the recording one. */
    private static String realMaven(Path fakeDir) {
        return Stream.of(System.getenv("PATH").split(File.pathSeparator)).map(dir -> Path.of(dir, "mvn"))
                .filter(p -> !p.getParent().equals(fakeDir) && Files.isExecutable(p)).findFirst()
                .map(Path::toString).orElseThrow(() -> new AssertionError("mvn is not on PATH"));
    }
}
