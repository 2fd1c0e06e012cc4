package io.pgrelay.core;

import io.pgrelay.core.testing.PackageGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * proxy-core's packages depend on each other without cycles, and only the root package (the
 * wiring, {@link ProxyServer}) may depend on everything: no package depends on it. Read from
 * the main sources, so a new import that closes a cycle fails here.
 */
class PackageCycleTest {
    private static final String ROOT = "io.pgrelay.core";
    private static final Path MAIN = Path.of("src", "main", "java", "io", "pgrelay", "core");

    private static final PackageGraph GRAPH = PackageGraph.scan(MAIN, ROOT);

    @Test
    void theSourcesWereRead() {
        // Guards the guard: an empty or partial scan would find no cycle either.
        assertThat(GRAPH.packages()).contains(PackageGraph.ROOT_NAME, "session", "console", "ops", "cluster");
        assertThat(GRAPH.dependencies(PackageGraph.ROOT_NAME)).contains("session", "console");
        assertThat(GRAPH.dependencies("session")).contains("cluster", "config");
    }

    @Test
    void noPackageCycle() {
        List<Set<String>> cycles = GRAPH.cycles();
        assertThat(cycles).as(GRAPH.describe(cycles)).isEmpty();
    }

    @Test
    void onlyTheWiringKnowsTheRootPackage() {
        Set<String> dependents = GRAPH.dependents(PackageGraph.ROOT_NAME);
        assertThat(dependents).as("packages that depend on %s", ROOT).isEmpty();
    }

    // ---- the scanner itself, on sources written for the case ----

    private static void write(Path root, String pkg, String name, String body) throws IOException {
        Path dir = root.resolve(pkg.replace('.', '/'));
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(name + ".java"), "package " + pkg + ";\n" + body);
    }

    @Test
    void findsACycleThroughImportsAndQualifiedNames(@TempDir Path sources) throws IOException {
        write(sources, "x.a", "A", "import x.b.B;\nclass A { B b; }\n");
        write(sources, "x.b", "B", "class B { x.c.C c; }\n");
        write(sources, "x.c", "C", "import static x.a.A.f;\nclass C { }\n");
        write(sources, "x.d", "D", "import x.a.*;\nclass D { }\n");

        PackageGraph graph = PackageGraph.scan(sources, "x");

        assertThat(graph.cycles()).containsExactly(Set.of("a", "b", "c"));
        assertThat(graph.files("b", "c")).containsExactly("B.java");
        assertThat(graph.dependencies("d")).containsExactly("a");
        assertThat(graph.describe(graph.cycles())).contains("b -> c [B.java]");
    }

    @Test
    void commentsAndStringsAreNotReferences(@TempDir Path sources) throws IOException {
        write(sources, "x", "Root", "class Root { x.a.A a; }\n");
        write(sources, "x.a", "A", """
                /** Unlike {@link x.Root}, ... */
                class A {
                    // x.Root is mentioned here only
                    String s = "x.Root";
                    String t = \"""
                        x.Root
                        \""";
                    char q = '"';
                    String u = "\\" x.Root";
                }
                """);

        PackageGraph graph = PackageGraph.scan(sources, "x");

        assertThat(graph.dependencies("a")).isEmpty();
        assertThat(graph.dependencies(PackageGraph.ROOT_NAME)).containsExactly("a");
        assertThat(graph.cycles()).isEmpty();
    }
}
