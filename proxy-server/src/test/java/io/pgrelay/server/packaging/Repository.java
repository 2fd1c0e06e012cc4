package io.pgrelay.server.packaging;

import org.w3c.dom.Document;

import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.xpath.XPathConstants;
import javax.xml.xpath.XPathFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Facts of this checkout that the packaging files must agree with: the jar the build makes, the launcher's options. */
final class Repository {
    /** The root of the checkout; tests run in proxy-server/. */
    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Pattern LAUNCHER_JAR = Pattern.compile("(?m)^jar=\"\\$here/([^\"]+)\"");
    private static final Pattern LAUNCHER_JVM_OPTIONS = Pattern.compile("java_opts=\\(\\$\\{PGRELAY_JAVA_OPTS:-([^}]*)}\\)");

    private Repository() {
    }

    static Path file(String relative) {
        Path path = ROOT.resolve(relative);
        if (!Files.isRegularFile(path)) {
            throw new AssertionError(path + " does not exist");
        }
        return path;
    }

    /** Where {@code mvn package} puts the runnable jar: proxy-server's shade finalName under its target/. */
    static String builtJar() throws Exception {
        var factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(false);
        Document pom = factory.newDocumentBuilder().parse(file("proxy-server/pom.xml").toFile());
        String finalName = (String) XPathFactory.newInstance().newXPath().evaluate(
                "/project/build/plugins/plugin[artifactId='maven-shade-plugin']//configuration/finalName",
                pom, XPathConstants.STRING);
        if (finalName == null || finalName.isBlank()) {
            throw new AssertionError("proxy-server/pom.xml: no finalName in the shade plugin's configuration");
        }
        return "proxy-server/target/" + finalName.strip() + ".jar";
    }

    private static String launcher() throws IOException {
        return Files.readString(file("bin/pgrelay"));
    }

    /** The jar bin/pgrelay runs, relative to the root. */
    static String launcherJar() throws IOException {
        Matcher m = LAUNCHER_JAR.matcher(launcher());
        if (!m.find()) {
            throw new AssertionError("bin/pgrelay: no jar=\"$here/...\" line");
        }
        return m.group(1);
    }

    /** The JVM options bin/pgrelay uses when PGRELAY_JAVA_OPTS is not set. */
    static List<String> launcherJvmOptions() throws IOException {
        Matcher m = LAUNCHER_JVM_OPTIONS.matcher(launcher());
        if (!m.find()) {
            throw new AssertionError("bin/pgrelay: no java_opts=(${PGRELAY_JAVA_OPTS:-...}) line");
        }
        return Arrays.asList(m.group(1).trim().split("\\s+"));
    }
}
