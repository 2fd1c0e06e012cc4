package io.pgrelay.server.relay;

import io.pgrelay.server.testing.TestProxy;
import io.pgrelay.testkit.Processes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** TLS toward clients, with the self-signed certificate generated at start. */
class TlsIT {
    private static TestProxy proxy;

    @BeforeAll
    static void start() {
        proxy = TestProxy.start("tls: { mode: require }\n");
    }

    @AfterAll
    static void stop() {
        proxy.close();
    }

    @Test
    void pgjdbcWithSslmodeRequire() throws SQLException {
        Properties props = new Properties();
        props.setProperty("sslmode", "require");
        try (Connection c = proxy.connect("app", "app", "app", props); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT 'over tls'")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("over tls");
        }
    }

    @Test
    void plaintextIsRefusedWhenTlsIsRequired() {
        assertThatThrownBy(() -> proxy.connect().close())
                .isInstanceOf(SQLException.class)
                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28000"))
                .hasMessageContaining("requires SSL");
    }

    @Test
    void psqlWithSslmodeRequire() {
        Processes.Result result = Processes.run(List.of(Processes.pgProgram("psql"),
                        proxy.libpqUri("app", "app", "app") + "?sslmode=require", "-XAtc",
                        "SELECT 'tls-ok'", "-c", "\\conninfo"),
                Map.of(), null, Duration.ofSeconds(30));
        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.stdout()).contains("tls-ok").contains("SSL connection");
    }
}
