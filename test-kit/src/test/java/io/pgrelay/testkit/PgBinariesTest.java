package io.pgrelay.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Binary discovery and input validation; needs no PostgreSQL installation. */
class PgBinariesTest {
    @TempDir
    Path tmp;

    @Test
    void picksTheHighestVersionedBinDirThatHasAllExecutables() throws IOException {
        fakeBinDir(tmp.resolve("9.6/bin"));
        fakeBinDir(tmp.resolve("13/bin"));
        fakeBinDir(tmp.resolve("15/bin"));
        Files.createDirectories(tmp.resolve("17/bin")); // incomplete: ignored
        Files.createDirectories(tmp.resolve("notaversion/bin"));

        assertThat(PgBinaries.highestVersionedDir(tmp)).contains(tmp.resolve("15/bin"));
        assertThat(PgBinaries.highestVersionedDir(tmp.resolve("missing"))).isEmpty();
    }

    @Test
    void aDirectoryWithoutTheServerBinariesFailsWithInstallInstructions() throws IOException {
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        Files.createFile(bin.resolve("psql"));
        assertThat(PgBinaries.isUsable(bin)).isFalse();
        assertThatThrownBy(() -> PgBinaries.requireUsable(bin))
                .isInstanceOf(LocalClusterException.BinariesNotFound.class)
                .hasMessageContaining("initdb")
                .hasMessageContaining("apt-get install -y postgresql")
                .hasMessageContaining("PG_BIN");
        assertThatThrownBy(() -> LocalCluster.builder().pgBin(bin).start())
                .isInstanceOf(LocalClusterException.BinariesNotFound.class)
                .hasMessageContaining("apt-get install -y postgresql");
    }

    @Test
    void builderAndUsersRejectBadInput() {
        assertThatThrownBy(() -> ClusterUser.scram("Robert'); DROP", "x")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ClusterUser.md5("bob", "")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> LocalCluster.builder().replicas(10)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> LocalCluster.builder().ports(5432, 5433).start())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expected 3 ports");
        assertThatThrownBy(() -> LocalCluster.builder().clearUsers().start())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("owner app");
        assertThatThrownBy(() -> LocalCluster.builder().setting("a b", "1")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void quotingForConfigurationFilesSqlAndConninfo() {
        assertThat(LocalNode.confQuote("it's a \\ path")).isEqualTo("'it''s a \\\\ path'");
        assertThat(LocalNode.sqlLiteral("it's")).isEqualTo("'it''s'");
        assertThat(LocalNode.conninfoQuote("p'w\\d")).isEqualTo("'p\\'w\\\\d'");
    }

    private static void fakeBinDir(Path dir) throws IOException {
        Files.createDirectories(dir);
        for (String name : PgBinaries.REQUIRED) {
            Path exe = Files.createFile(dir.resolve(name));
            Files.setPosixFilePermissions(exe, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }
}
