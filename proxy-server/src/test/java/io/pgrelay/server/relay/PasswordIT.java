package io.pgrelay.server.relay;

import io.pgrelay.server.testing.TestProxy;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.SQLException;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Password authentication failures answer as PostgreSQL does. */
class PasswordIT {
    private static TestProxy proxy;

    @BeforeAll
    static void start() {
        proxy = TestProxy.shared();
    }

    private static void assertRefused(String database, String user, String password, String sqlState, String text) {
        assertThatThrownBy(() -> proxy.connect(database, user, password, new Properties()).close())
                .isInstanceOf(SQLException.class)
                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo(sqlState))
                .hasMessageContaining(text);
    }

    @Test
    void wrongScramPassword() {
        assertRefused("app", "app", "wrong", "28P01", "password authentication failed for user \"app\"");
    }

    @Test
    void wrongMd5Password() {
        assertRefused("app", "app_md5", "wrong", "28P01", "password authentication failed for user \"app_md5\"");
    }

    @Test
    void unknownUserFailsLikeAWrongPassword() {
        assertRefused("app", "nobody", "whatever", "28P01", "password authentication failed for user \"nobody\"");
    }

    @Test
    void unknownDatabase() {
        assertRefused("no_such_database", "app", "app", "3D000", "database \"no_such_database\" does not exist");
    }
}
