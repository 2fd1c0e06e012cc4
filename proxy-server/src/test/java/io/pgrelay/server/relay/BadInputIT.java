package io.pgrelay.server.relay;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.pgrelay.protocol.message.backend.ErrorResponse;
import io.pgrelay.protocol.message.frontend.Query;
import io.pgrelay.protocol.message.frontend.StartupMessage;
import io.pgrelay.server.testing.RawPgClient;
import io.pgrelay.server.testing.TestProxy;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Malformed and hostile input: each bad client gets a proper ErrorResponse with the right
 * SQLSTATE and is disconnected, one log line and no stack trace is written, and a client
 * connected all along never notices.
 */
class BadInputIT {
    private static TestProxy proxy;
    private static Connection bystander;
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();

    @BeforeAll
    static void start() throws SQLException {
        // Trust on the client side lets a bare socket log in; backends still use passwords.
        proxy = TestProxy.start("""
                auth:
                  method: trust
                  users:
                    - { name: app, password: app }
                max-message-size: 1MB
                """);
        bystander = proxy.connect();
    }

    @AfterAll
    static void stop() throws SQLException {
        bystander.close();
        proxy.close();
    }

    @BeforeEach
    void captureLogs() {
        logs.start();
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(logs);
    }

    @AfterEach
    void bystanderStillServed() throws SQLException {
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(logs);
        try (Statement s = bystander.createStatement(); ResultSet rs = s.executeQuery("SELECT 'still here'")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("still here");
        }
        assertThat(logs.list).as("no stack trace for a bad client")
                .allSatisfy(event -> assertThat(event.getThrowableProxy()).isNull());
        assertThat(logs.list.stream().filter(e -> e.getLoggerName().equals("io.pgrelay.client")).count())
                .as("one log line per bad client").isLessThanOrEqualTo(1);
    }

    private static RawPgClient raw() throws Exception {
        return new RawPgClient(proxy.host(), proxy.port());
    }

    @Test
    void garbageBytes() throws Exception {
        try (RawPgClient client = raw()) {
            client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            ErrorResponse error = client.readError();
            assertThat(error.sqlState()).isEqualTo("08P01");
            assertThat(error.message()).contains("invalid length of startup packet");
            assertThat(client.closedByServer(2000)).isTrue();
        }
    }

    @Test
    void truncatedStartupPacket() throws Exception {
        try (RawPgClient client = raw()) {
            client.send(ByteBuffer.allocate(12).putInt(100).putInt(196608).putInt(0x75736572).array());
            client.socket().shutdownOutput();
            assertThat(client.closedByServer(2000)).isTrue();
        }
    }

    @Test
    void truncatedMessageAfterLogin() throws Exception {
        try (RawPgClient client = raw()) {
            client.login("app", "app");
            client.send(new byte[] {'Q', 0, 0, 0, 50, 'S', 'E', 'L'});
            client.socket().shutdownOutput();
            assertThat(client.closedByServer(2000)).isTrue();
        }
    }

    @Test
    void unknownProtocolVersion() throws Exception {
        try (RawPgClient client = raw()) {
            client.send(new StartupMessage(4 << 16, Map.of("user", "app")));
            ErrorResponse error = client.readError();
            assertThat(error.sqlState()).isEqualTo("0A000");
            assertThat(error.message()).contains("unsupported frontend protocol 4.0");
            assertThat(client.closedByServer(2000)).isTrue();
        }
    }

    @Test
    void newerMinorVersionIsNegotiatedDown() throws Exception {
        try (RawPgClient client = raw()) {
            client.send(new StartupMessage((3 << 16) | 2, Map.of("user", "app", "database", "app",
                    "_pq_.some_extension", "on")));
            RawPgClient.Received first = client.read();
            assertThat(first.type()).isEqualTo('v');
            assertThat(client.readUntil('Z').type()).isEqualTo('Z');
            client.send(new Query("SELECT 1"));
            assertThat(client.readUntil('D').type()).isEqualTo('D');
        }
    }

    @Test
    void unknownMessageType() throws Exception {
        try (RawPgClient client = raw()) {
            client.login("app", "app");
            client.send(new byte[] {'Y', 0, 0, 0, 4});
            ErrorResponse error = client.readError();
            assertThat(error.sqlState()).isEqualTo("08P01");
            assertThat(error.message()).contains("invalid frontend message type 89");
            assertThat(client.closedByServer(2000)).isTrue();
        }
    }

    @Test
    void oversizeLengthIsRefusedBeforeTheBodyArrives() throws Exception {
        try (RawPgClient client = raw()) {
            client.login("app", "app");
            client.send(new byte[] {'Q', 0x40, 0, 0, 0});
            ErrorResponse error = client.readError();
            assertThat(error.sqlState()).isEqualTo("08P01");
            assertThat(error.message()).contains("more than the limit");
            assertThat(client.closedByServer(2000)).isTrue();
        }
    }

    @Test
    void negativeLength() throws Exception {
        try (RawPgClient client = raw()) {
            client.login("app", "app");
            client.send(new byte[] {'Q', (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xf0});
            assertThat(client.readError().sqlState()).isEqualTo("08P01");
            assertThat(client.closedByServer(2000)).isTrue();
        }
    }

    @Test
    void missingUser() throws Exception {
        try (RawPgClient client = raw()) {
            client.send(new StartupMessage(StartupMessage.PROTOCOL_3_0, Map.of("database", "app")));
            ErrorResponse error = client.readError();
            assertThat(error.sqlState()).isEqualTo("28000");
            assertThat(client.closedByServer(2000)).isTrue();
        }
    }

    @Test
    void unknownUserWithTrust() throws Exception {
        try (RawPgClient client = raw()) {
            client.startup("nobody", "app");
            ErrorResponse error = client.readError();
            assertThat(error.sqlState()).isEqualTo("28000");
            assertThat(error.message()).contains("\"nobody\"");
        }
    }

    @Test
    void unknownDatabase() throws Exception {
        try (RawPgClient client = raw()) {
            client.startup("app", "no_such_db");
            ErrorResponse error = client.readError();
            assertThat(error.sqlState()).isEqualTo("3D000");
            assertThat(error.message()).contains("no_such_db");
            assertThat(client.closedByServer(2000)).isTrue();
        }
    }

    @Test
    void sslRequestFollowedByPlaintext() throws Exception {
        try (RawPgClient client = raw()) {
            byte[] sslRequest = ByteBuffer.allocate(8).putInt(8).putInt(80877103).array();
            byte[] extra = {0, 0, 0, 8, 0, 3, 0, 0};
            byte[] both = new byte[16];
            System.arraycopy(sslRequest, 0, both, 0, 8);
            System.arraycopy(extra, 0, both, 8, 8);
            client.send(both);
            ErrorResponse error = client.readError();
            assertThat(error.sqlState()).isEqualTo("08P01");
            assertThat(error.message()).contains("unencrypted data after SSL request");
        }
    }

    @Test
    void gssEncryptionIsDeclined() throws Exception {
        try (RawPgClient client = raw()) {
            client.send(ByteBuffer.allocate(8).putInt(8).putInt(80877104).array());
            assertThat(client.input().readByte()).isEqualTo((byte) 'N');
            assertThat(client.login("app", "app").type()).isEqualTo('Z');
        }
    }
}
