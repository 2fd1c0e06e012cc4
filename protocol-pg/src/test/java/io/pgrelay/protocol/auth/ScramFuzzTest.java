package io.pgrelay.protocol.auth;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.pgrelay.protocol.PgProtocolException;
import io.pgrelay.testing.FuzzStreams;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static io.pgrelay.protocol.auth.ScramTestSupport.RFC_CLIENT_FINAL;
import static io.pgrelay.protocol.auth.ScramTestSupport.RFC_CLIENT_FIRST;
import static io.pgrelay.protocol.auth.ScramTestSupport.RFC_CLIENT_NONCE;
import static io.pgrelay.protocol.auth.ScramTestSupport.RFC_PASSWORD;
import static io.pgrelay.protocol.auth.ScramTestSupport.RFC_SERVER_FINAL;
import static io.pgrelay.protocol.auth.ScramTestSupport.RFC_SERVER_FIRST;
import static io.pgrelay.protocol.auth.ScramTestSupport.RFC_SERVER_NONCE;
import static io.pgrelay.protocol.auth.ScramTestSupport.RFC_USER;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fuzzes both ends of SCRAM-SHA-256 with the peer's messages, NUL-separated in one input (no
 * SCRAM message may contain a NUL): the server session with {@code mechanism\0client-first\0client-final},
 * the client session with {@code server-first\0server-final}. The sessions run with the RFC 7677
 * test vector's secret and nonces, so the seeds (that vector, and the messages of the captured
 * psql, pgjdbc and pgbench logins) reach every step. Each step either fails with a
 * {@link PgProtocolException} or succeeds; and an exchange succeeds only with the vector's exact
 * messages (up to the unused bits of the proof's or signature's base64), since any other bytes
 * change the AuthMessage the proof and signature are made over (a success with anything else
 * would be an authentication bypass).
 */
public class ScramFuzzTest {
    /** Bounds the PBKDF2 work a mutated iteration count can ask of the client. */
    private static final int MAX_ITERATIONS = 4096;

    @FuzzTest
    void server(byte[] input) {
        runServer(input);
    }

    @FuzzTest
    void client(byte[] input) {
        runClient(input);
    }

    /** One execution of {@link #server}; also driven by {@link io.pgrelay.protocol.DecodersFuzzTest}. */
    public static void runServer(byte[] input) {
        List<byte[]> parts = split(input);
        ScramServerSession server = new ScramServerSession(RFC_USER, ScramTestSupport.rfcSecret(),
                NonceSource.fixed(RFC_SERVER_NONCE));
        String mechanism = new String(parts.get(0), StandardCharsets.UTF_8);
        byte[] clientFirst = part(parts, 1);
        byte[] clientFinal = part(parts, 2);
        if (!succeeds(() -> server.handleClientFirst(mechanism, clientFirst))) {
            return;
        }
        boolean authenticated = succeeds(() -> server.handleClientFinal(clientFinal));
        assertThat(server.isComplete()).isEqualTo(authenticated);
        if (authenticated) {
            assertThat(text(clientFirst)).as("client-first of a successful login").isEqualTo(RFC_CLIENT_FIRST);
            assertSameExceptBase64(text(clientFinal), RFC_CLIENT_FINAL, ",p=");
        }
    }

    /** One execution of {@link #client}; also driven by {@link io.pgrelay.protocol.DecodersFuzzTest}. */
    public static void runClient(byte[] input) {
        List<byte[]> parts = split(input);
        ScramClientSession client = new ScramClientSession(RFC_PASSWORD, NonceSource.fixed(RFC_CLIENT_NONCE),
                MAX_ITERATIONS, RFC_USER);
        client.clientFirstMessage();
        byte[] serverFirst = parts.get(0);
        byte[] serverFinal = part(parts, 1);
        if (!succeeds(() -> client.handleServerFirst(serverFirst))) {
            return;
        }
        boolean verified = succeeds(() -> client.handleServerFinal(serverFinal));
        assertThat(client.isComplete()).isEqualTo(verified);
        if (verified) {
            assertThat(text(serverFirst)).as("server-first of a verified server").isEqualTo(RFC_SERVER_FIRST);
            String signature = text(serverFinal).split(",", 2)[0]; // extensions after it are ignored
            assertSameExceptBase64(signature, RFC_SERVER_FINAL, "v=");
        }
    }

    /**
     * {@code actual} is {@code expected} up to the last {@code marker}, and the base64 after it
     * decodes to the same bytes. The last base64 character of a 32-byte value carries two unused
     * bits: setting them changes the text, not the proof or signature, and PostgreSQL's decoder
     * ignores them too (the fuzzer's first finding was this, not a bypass).
     */
    private static void assertSameExceptBase64(String actual, String expected, String marker) {
        int at = expected.lastIndexOf(marker) + marker.length();
        int actualAt = actual.lastIndexOf(marker) + marker.length();
        assertThat(actual.substring(0, Math.max(0, actualAt))).as("text before the base64 value")
                .isEqualTo(expected.substring(0, at));
        assertThat(java.util.Base64.getDecoder().decode(actual.substring(actualAt))).as("the base64 value's bytes")
                .isEqualTo(java.util.Base64.getDecoder().decode(expected.substring(at)));
    }

    private interface Step {
        void run();
    }

    /** Runs one step: true if it succeeded, false if it refused the message with a protocol error. */
    private static boolean succeeds(Step step) {
        try {
            step.run();
            return true;
        } catch (PgProtocolException e) {
            FuzzStreams.assertSqlState(e);
            return false;
        }
    }

    /** The input cut at each NUL. */
    private static List<byte[]> split(byte[] input) {
        List<byte[]> parts = new ArrayList<>();
        int from = 0;
        for (int i = 0; i <= input.length; i++) {
            if (i == input.length || input[i] == 0) {
                parts.add(java.util.Arrays.copyOfRange(input, from, i));
                from = i + 1;
            }
        }
        return parts;
    }

    /** Part {@code index}, or null when the input has fewer (a peer that sent nothing). */
    private static byte[] part(List<byte[]> parts, int index) {
        return index < parts.size() ? parts.get(index) : null;
    }

    private static String text(byte[] bytes) {
        return new String(bytes, StandardCharsets.ISO_8859_1);
    }
}
