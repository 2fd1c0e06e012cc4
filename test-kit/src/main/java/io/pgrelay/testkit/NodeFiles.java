package io.pgrelay.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static io.pgrelay.testkit.LocalNode.COMMON_CONF;
import static io.pgrelay.testkit.LocalNode.NODE_CONF;
import static io.pgrelay.testkit.LocalNode.confQuote;
import static io.pgrelay.testkit.LocalNode.conninfoQuote;

/**
 * A node's files: its data directory made by initdb or a base backup, and the configuration
 * pgrelay's test cluster writes into it (port, socket, TLS files, the standby's connection).
 */
final class NodeFiles {
    private static final Logger log = LoggerFactory.getLogger(NodeFiles.class);

    private final LocalNode node;
    /** The certificate and key this node serves; null without {@link ServerTls}. */
    private volatile ServedCertificate servedCertificate;

    private record ServedCertificate(String certificatePem, String keyPem) {
    }

    NodeFiles(LocalNode node) {
        this.node = node;
        ServerTls tls = node.cluster().serverTls();
        this.servedCertificate = tls == null ? null : new ServedCertificate(tls.certificatePem(), tls.keyPem());
    }

    private String pg(String executable) {
        return node.cluster().binDir().resolve(executable).toString();
    }

    private OsSupport os() {
        return node.cluster().os();
    }

    /** initdb, then write our configuration. Called once, for the initial primary. */
    void initPrimary() {
        os().createServerDirectory(node.nodeDir());
        Path pwfile = node.nodeDir().resolve("initdb.pwfile");
        os().writeServerFile(pwfile, node.cluster().superuser().password() + "\n");
        log.info("{}: initdb in {}", node.name(), node.dataDir());
        try {
            OsSupport.CommandResult result = os().runAsServer(List.of(pg("initdb"), "-D", node.dataDir().toString(),
                    "--auth-local=trust", "--auth-host=scram-sha-256", "-U", node.cluster().superuser().name(),
                    "--encoding=UTF8", "--locale=C", "--pwfile=" + pwfile, "--no-sync",
                            // 1 MB WAL segments: base backups and initdb write far less
                            "--wal-segsize=1"),
                    Map.of(), node.nodeDir(), Duration.ofMinutes(3));
            if (!result.ok()) {
                throw new LocalClusterException(node.name() + ": initdb failed: " + result.describe());
            }
        } finally {
            try {
                Files.deleteIfExists(pwfile);
            } catch (IOException ignored) {
                // harmless
            }
        }
        os().appendServerFile(node.dataDir().resolve("postgresql.conf"), "\n# added by pgrelay LocalCluster\n"
                + "include '" + COMMON_CONF + "'\n"
                + "include '" + NODE_CONF + "'\n");
        os().writeServerFile(node.dataDir().resolve(COMMON_CONF), node.cluster().commonConf());
        os().writeServerFile(node.dataDir().resolve("pg_hba.conf"), node.cluster().hbaConf());
        writeNodeConf();
    }

    /** Per-node settings; rewritten after every base backup (which copies the primary's). */
    void writeNodeConf() {
        os().writeServerFile(node.dataDir().resolve(NODE_CONF), "# written by pgrelay LocalCluster for " + node.name() + "\n"
                + "port = " + node.port() + "\n"
                + "unix_socket_directories = " + confQuote(node.socketDir().toString()) + "\n"
                + "cluster_name = " + confQuote(node.name()) + "\n");
        writeTlsFiles();
    }

    /** The TLS files named in the common configuration, owned by the server user (the key mode 0600). */
    private void writeTlsFiles() {
        ServerTls tls = node.cluster().serverTls();
        ServedCertificate served = servedCertificate;
        if (tls == null || served == null) {
            return;
        }
        os().writeServerFile(node.dataDir().resolve(ServerTls.CERT_FILE), served.certificatePem());
        os().writeServerFile(node.dataDir().resolve(ServerTls.KEY_FILE), served.keyPem());
        os().writeServerFile(node.dataDir().resolve(ServerTls.CA_FILE), tls.clientCaPem());
    }

    /** Writes another certificate and key (PEM) for the node to serve after its next reload. */
    void serve(String certificatePem, String keyPem) {
        servedCertificate = new ServedCertificate(certificatePem, keyPem);
        writeTlsFiles();
    }

    /** pg_basebackup from {@code primary} into an empty data dir, configured as a streaming standby. */
    void baseBackupFrom(LocalNode primary) {
        os().createServerDirectory(node.nodeDir());
        primary.replication().dropSlot(node.name());
        log.info("{}: pg_basebackup from {} ({}:{}) with slot {}", node.name(), primary.name(), primary.host(),
                primary.port(), node.name());
        ClusterUser su = node.cluster().superuser();
        long t0 = System.nanoTime();
        OsSupport.CommandResult result = os().runAsServer(List.of(pg("pg_basebackup"),
                        "-h", primary.host(), "-p", Integer.toString(primary.port()), "-U", su.name(), "-w",
                        "-D", node.dataDir().toString(), "-R", "-C", "-S", node.name(), "-X", "stream", "-c", "fast",
                        "--no-sync"),
                Map.of("PGPASSWORD", su.password(), "PGAPPNAME", node.name() + "_basebackup"), node.nodeDir(),
                Duration.ofMinutes(5));
        if (!result.ok()) {
            throw new LocalClusterException(node.name() + ": base backup from " + primary.name() + " failed: "
                    + result.describe());
        }
        log.debug("{}: base backup took {} ms", node.name(), (System.nanoTime() - t0) / 1_000_000);
        writeNodeConf();
        writeStandbyConnection(primary);
    }

    /** Replaces primary_conninfo / primary_slot_name written by {@code pg_basebackup -R}. */
    private void writeStandbyConnection(LocalNode primary) {
        Path auto = node.dataDir().resolve("postgresql.auto.conf");
        List<String> kept = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(auto, StandardCharsets.UTF_8)) {
                String key = line.strip();
                if (!key.startsWith("primary_conninfo") && !key.startsWith("primary_slot_name")) {
                    kept.add(line);
                }
            }
        } catch (NoSuchFileException e) {
            kept.add("# Do not edit this file manually!");
            kept.add("# It will be overwritten by the ALTER SYSTEM command.");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        kept.add("primary_conninfo = " + confQuote(conninfoFor(primary)));
        kept.add("primary_slot_name = " + confQuote(node.name()));
        os().writeServerFile(auto, String.join("\n", kept) + "\n");
        try {
            if (!Files.exists(node.dataDir().resolve("standby.signal"))) {
                os().writeServerFile(node.dataDir().resolve("standby.signal"), "");
            }
        } catch (RuntimeException e) {
            throw new LocalClusterException(node.name() + ": cannot write standby.signal", e);
        }
    }

    /** The libpq connection string this node uses to stream from {@code primary}. */
    String conninfoFor(LocalNode primary) {
        ClusterUser su = node.cluster().superuser();
        return "host=" + primary.host() + " port=" + primary.port() + " user=" + su.name()
                + " password=" + conninfoQuote(su.password()) + " application_name=" + node.name();
    }
}
