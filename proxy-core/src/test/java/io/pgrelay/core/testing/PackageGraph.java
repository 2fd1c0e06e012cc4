package io.pgrelay.core.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Which package of a source tree refers to which, read from the sources: imports (static and
 * on demand) and fully qualified names in code; comments and string literals do not count.
 * Packages are named relative to a root package, the root itself as {@value #ROOT_NAME}.
 */
public final class PackageGraph {
    public static final String ROOT_NAME = "(root)";

    /** package → packages it refers to → the files that do. */
    private final Map<String, Map<String, Set<String>>> edges = new TreeMap<>();

    private PackageGraph() {
    }

    /** Reads every {@code .java} file under {@code sources}, keeping references within {@code rootPackage}. */
    public static PackageGraph scan(Path sources, String rootPackage) {
        Pattern reference = Pattern.compile(
                "\\b" + Pattern.quote(rootPackage) + "((?:\\.[a-z_][a-z0-9_]*)*)\\.(?:[A-Z]|\\*)");
        Pattern declaration = Pattern.compile("\\bpackage\\s+([\\w.]+)\\s*;");
        PackageGraph graph = new PackageGraph();
        try (Stream<Path> files = Files.walk(sources)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).sorted().toList()) {
                String code = codeOnly(Files.readString(file));
                Matcher declared = declaration.matcher(code);
                if (!declared.find() || !(declared.group(1) + ".").startsWith(rootPackage + ".")) {
                    continue;
                }
                String from = relative(declared.group(1).substring(rootPackage.length()));
                graph.edges.computeIfAbsent(from, k -> new TreeMap<>());
                Matcher found = reference.matcher(code);
                while (found.find()) {
                    String to = relative(found.group(1));
                    if (!to.equals(from)) {
                        graph.edges.get(from).computeIfAbsent(to, k -> new TreeSet<>())
                                .add(file.getFileName().toString());
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return graph;
    }

    private static String relative(String suffix) {
        return suffix.isEmpty() ? ROOT_NAME : suffix.substring(1);
    }

    /** Every package that holds a source file. */
    public Set<String> packages() {
        return edges.keySet();
    }

    /** The packages {@code from} refers to. */
    public Set<String> dependencies(String from) {
        return edges.getOrDefault(from, Map.of()).keySet();
    }

    /** The files of {@code from} that refer to {@code to}. */
    public Set<String> files(String from, String to) {
        return edges.getOrDefault(from, Map.of()).getOrDefault(to, Set.of());
    }

    /** The packages that refer to {@code to}. */
    public Set<String> dependents(String to) {
        Set<String> found = new TreeSet<>();
        edges.forEach((from, targets) -> {
            if (targets.containsKey(to)) {
                found.add(from);
            }
        });
        return found;
    }

    /** Groups of packages that reach each other (strongly connected components of more than one package). */
    public List<Set<String>> cycles() {
        return new Tarjan().run();
    }

    /** Every cycle with the references that close it, one line each: {@code a -> b (A.java)}. */
    public String describe(List<Set<String>> cycles) {
        StringBuilder out = new StringBuilder();
        for (Set<String> cycle : cycles) {
            out.append("cycle among ").append(cycle).append(":\n");
            for (String from : cycle) {
                for (String to : dependencies(from)) {
                    if (cycle.contains(to)) {
                        out.append("  ").append(from).append(" -> ").append(to).append(' ')
                                .append(files(from, to)).append('\n');
                    }
                }
            }
        }
        return out.toString();
    }

    /** Tarjan's strongly connected components; the graphs are small, so recursion is fine. */
    private final class Tarjan {
        private final Map<String, Integer> index = new HashMap<>();
        private final Map<String, Integer> lowLink = new HashMap<>();
        private final Deque<String> stack = new ArrayDeque<>();
        private final Set<String> onStack = new TreeSet<>();
        private final List<Set<String>> components = new ArrayList<>();

        List<Set<String>> run() {
            for (String node : edges.keySet()) {
                if (!index.containsKey(node)) {
                    visit(node);
                }
            }
            return components;
        }

        private void visit(String node) {
            index.put(node, index.size());
            lowLink.put(node, index.get(node));
            stack.push(node);
            onStack.add(node);
            for (String next : dependencies(node)) {
                if (!index.containsKey(next)) {
                    visit(next);
                    lowLink.put(node, Math.min(lowLink.get(node), lowLink.get(next)));
                } else if (onStack.contains(next)) {
                    lowLink.put(node, Math.min(lowLink.get(node), index.get(next)));
                }
            }
            if (lowLink.get(node).equals(index.get(node))) {
                Set<String> component = new TreeSet<>();
                String member;
                do {
                    member = stack.pop();
                    onStack.remove(member);
                    component.add(member);
                } while (!member.equals(node));
                if (component.size() > 1) {
                    components.add(component);
                }
            }
        }
    }

    /** The source with comments and string, text block and character literals blanked out. */
    static String codeOnly(String source) {
        StringBuilder out = new StringBuilder(source.length());
        int i = 0;
        int n = source.length();
        while (i < n) {
            char c = source.charAt(i);
            if (source.startsWith("//", i)) {
                i = skipTo(source, "\n", i + 2);
            } else if (source.startsWith("/*", i)) {
                i = skipTo(source, "*/", i + 2) + 2;
            } else if (source.startsWith("\"\"\"", i)) {
                i = skipLiteral(source, "\"\"\"", i + 3);
            } else if (c == '"' || c == '\'') {
                i = skipLiteral(source, String.valueOf(c), i + 1);
            } else {
                out.append(c);
                i++;
                continue;
            }
            out.append(' ');
        }
        return out.toString();
    }

    private static int skipTo(String source, String end, int from) {
        int at = source.indexOf(end, from);
        return at < 0 ? source.length() : at;
    }

    /** The index after the literal's closing {@code end}, honouring backslash escapes. */
    private static int skipLiteral(String source, String end, int from) {
        int i = from;
        while (i < source.length()) {
            if (source.charAt(i) == '\\') {
                i += 2;
            } else if (source.startsWith(end, i)) {
                return i + end.length();
            } else {
                i++;
            }
        }
        return source.length();
    }
}
