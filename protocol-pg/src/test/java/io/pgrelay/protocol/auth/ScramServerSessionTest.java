package io.pgrelay.protocol.auth;

import static io.pgrelay.protocol.auth.ScramTestSupport.RFC_CLIENT_FINAL;
import static io.pgrelay.protocol.auth.ScramTestSupport.RFC_CLIENT_FIRST;
import static io.pgrelay.protocol.auth.ScramTestSupport.RFC_ITERATIONS;
import static io.pgrelay.protocol.auth.ScramTestSupport.RFC_PASSWORD;
import static io.pgrelay.protocol.auth.ScramTestSupport.RFC_SERVER_FINAL;
import static io.pgrelay.protocol.auth.ScramTestSupport.RFC_SERVER_FIRST;
import static io.pgrelay.protocol.auth.ScramTestSupport.RFC_SERVER_NONCE;
import static io.pgrelay.protocol.auth.ScramTestSupport.ascii;
import static io.pgrelay.protocol.auth.ScramTestSupport.assertSqlState;
import static io.pgrelay.protocol.auth.ScramTestSupport.refClientFinal;
import static io.pgrelay.protocol.auth.ScramTestSupport.refProofAndSignature;
import static io.pgrelay.protocol.auth.ScramTestSupport.rfcSalt;
import static io.pgrelay.protocol.auth.ScramTestSupport.text;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgrelay.protocol.SqlState;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ScramServerSessionTest {
    private static final String MECH = ScramSha256.MECHANISM;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String CLIENT_NONCE = "clientNonce0123456789abc";
    private static final String SERVER_NONCE = "serverNonce0123456789xyz";
    private static final String BARE = "n=,r=" + CLIENT_NONCE;
    private static final String FINAL_NONCE = CLIENT_NONCE + SERVER_NONCE;

    private static ScramServerSession rfcServer() {
        return new ScramServerSession("user", ScramTestSupport.rfcSecret(), NonceSource.fixed(RFC_SERVER_NONCE));
    }

    /** A server for the RFC secret that has already answered client-first "n,,n=,r=CLIENT_NONCE". */
    private static ScramServerSession serverAfterFirst(char cbindFlag) {
        ScramServerSession server = new ScramServerSession("alice", ScramTestSupport.rfcSecret(),
                NonceSource.fixed(SERVER_NONCE));
        server.handleClientFirst(MECH, ascii(cbindFlag + ",," + BARE));
        return server;
    }

    private static String serverFirst() {
        return "r=" + FINAL_NONCE + ",s=" + ScramTestSupport.RFC_SALT_B64 + ",i=4096";
    }

    private static String finalFor(String withoutProof) throws Exception {
        return refClientFinal(RFC_PASSWORD, rfcSalt(), RFC_ITERATIONS, BARE, serverFirst(), withoutProof);
    }

    @Test
    void advertisesOnlyScramSha256() {
        assertThat(rfcServer().mechanisms()).isEqualTo("SCRAM-SHA-256");
    }

    @Test
    void rfc7677VectorServerSide() {
        ScramServerSession server = rfcServer();
        assertThat(text(server.handleClientFirst(MECH, ascii(RFC_CLIENT_FIRST)))).isEqualTo(RFC_SERVER_FIRST);
        assertThat(server.isComplete()).isFalse();
        assertThat(text(server.handleClientFinal(ascii(RFC_CLIENT_FINAL)))).isEqualTo(RFC_SERVER_FINAL);
        assertThat(server.isComplete()).isTrue();
    }

    @Test
    void rfc7677VectorWithSecretDerivedFromPassword() {
        ScramSecret derived = ScramSecret.fromPassword(RFC_PASSWORD, rfcSalt(), RFC_ITERATIONS);
        ScramServerSession server = new ScramServerSession("user", derived, NonceSource.fixed(RFC_SERVER_NONCE));
        assertThat(text(server.handleClientFirst(MECH, ascii(RFC_CLIENT_FIRST)))).isEqualTo(RFC_SERVER_FIRST);
        assertThat(text(server.handleClientFinal(ascii(RFC_CLIENT_FINAL)))).isEqualTo(RFC_SERVER_FINAL);
    }

    @Test
    void roundTripWithClientSession() {
        ScramSecret secret = ScramSecret.fromPassword("correct horse", 64, RANDOM);
        NonceSource nonces = NonceSource.secureRandom(RANDOM);
        ScramServerSession server = new ScramServerSession("alice", secret, nonces);
        ScramClientSession client = new ScramClientSession("correct horse", nonces);

        byte[] serverFirst = server.handleClientFirst(client.mechanism(), client.clientFirstMessage());
        byte[] serverFinal = server.handleClientFinal(client.handleServerFirst(serverFirst));
        client.handleServerFinal(serverFinal);

        assertThat(server.isComplete()).isTrue();
        assertThat(client.isComplete()).isTrue();
    }

    @Test
    void roundTripWithNonAsciiPassword() {
        // The secret is derived from the NFKC/mapped form; the client types a different but equivalent form.
        ScramSecret secret = ScramSecret.fromPassword("p\u00E4ss w\u00F6rd", 64, RANDOM);
        NonceSource nonces = NonceSource.secureRandom(RANDOM);
        ScramServerSession server = new ScramServerSession("alice", secret, nonces);
        ScramClientSession client = new ScramClientSession("pa\u0308ss\u00A0wo\u0308r\u00ADd", nonces);
        byte[] serverFinal = server.handleClientFinal(
                client.handleServerFirst(server.handleClientFirst(MECH, client.clientFirstMessage())));
        client.handleServerFinal(serverFinal);
        assertThat(client.isComplete()).isTrue();
    }

    @Test
    void wrongPasswordFailsWith28P01() {
        ScramSecret secret = ScramSecret.fromPassword("right", 64, RANDOM);
        NonceSource nonces = NonceSource.secureRandom(RANDOM);
        ScramServerSession server = new ScramServerSession("alice", secret, nonces);
        ScramClientSession client = new ScramClientSession("wrong", nonces);
        byte[] clientFinal = client.handleServerFirst(server.handleClientFirst(MECH, client.clientFirstMessage()));

        assertSqlState(SqlState.INVALID_PASSWORD, () -> server.handleClientFinal(clientFinal))
                .hasMessage("password authentication failed for user \"alice\"");
        assertThat(server.isComplete()).isFalse();
        // The session is dead afterwards.
        assertSqlState(SqlState.PROTOCOL_VIOLATION, () -> server.handleClientFinal(clientFinal));
    }

    @Test
    void unknownUserRunsMockExchangeAndFailsOnlyAtTheEnd() throws Exception {
        byte[] key = new byte[32];
        ScramServerSession server = new ScramServerSession("ghost", null, NonceSource.fixed(SERVER_NONCE), key);
        String serverFirst = text(server.handleClientFirst(MECH, ascii("n,," + BARE)));

        assertThat(serverFirst).matches("r=" + FINAL_NONCE + ",s=[A-Za-z0-9+/]{22}==,i=4096");
        String salt = serverFirst.substring(serverFirst.indexOf(",s=") + 3, serverFirst.indexOf(",i="));
        assertThat(Base64.getDecoder().decode(salt)).hasSize(ScramSha256.DEFAULT_SALT_LENGTH);

        // Deterministic per user name and key, different between users.
        assertThat(text(new ScramServerSession("ghost", null, NonceSource.fixed(SERVER_NONCE), key)
                .handleClientFirst(MECH, ascii("n,," + BARE)))).isEqualTo(serverFirst);
        assertThat(text(new ScramServerSession("other", null, NonceSource.fixed(SERVER_NONCE), key)
                .handleClientFirst(MECH, ascii("n,," + BARE)))).isNotEqualTo(serverFirst);
        // The per-process default key is stable within the process too.
        assertThat(new ScramServerSession("ghost", null, NonceSource.fixed(SERVER_NONCE))
                .handleClientFirst(MECH, ascii("n,," + BARE)))
                .isEqualTo(new ScramServerSession("ghost", null, NonceSource.fixed(SERVER_NONCE))
                        .handleClientFirst(MECH, ascii("n,," + BARE)));

        // A well-formed final message with a proof for some password: still 28P01, like a wrong password.
        String clientFinal = refClientFinal("anything", Base64.getDecoder().decode(salt), 4096, BARE, serverFirst,
                "c=biws,r=" + FINAL_NONCE);
        assertSqlState(SqlState.INVALID_PASSWORD, () -> server.handleClientFinal(ascii(clientFinal)))
                .hasMessage("password authentication failed for user \"ghost\"");
        assertThat(server.isComplete()).isFalse();
    }

    @Test
    void unknownUserStillReportsProtocolErrorsAsSuch() {
        ScramServerSession server = new ScramServerSession("ghost", null, NonceSource.fixed(SERVER_NONCE));
        server.handleClientFirst(MECH, ascii("n,," + BARE));
        assertSqlState(SqlState.PROTOCOL_VIOLATION,
                () -> server.handleClientFinal(ascii("c=biws,r=" + CLIENT_NONCE + "tampered,p=AAAA")));
    }

    @Test
    void acceptsExtensionsAndIgnoresUserName() throws Exception {
        ScramServerSession server = new ScramServerSession("alice", ScramTestSupport.rfcSecret(),
                NonceSource.fixed(SERVER_NONCE));
        String bare = "n=somebody-else,r=" + CLIENT_NONCE + ",x=ext";
        String serverFirst = text(server.handleClientFirst(MECH, ascii("n,," + bare)));
        assertThat(serverFirst).isEqualTo(serverFirst());

        String withoutProof = "c=biws,r=" + FINAL_NONCE + ",z=extension";
        byte[][] ref = refProofAndSignature(RFC_PASSWORD, rfcSalt(), RFC_ITERATIONS, bare, serverFirst, withoutProof);
        String clientFinal = withoutProof + ",p=" + Base64.getEncoder().encodeToString(ref[0]);
        assertThat(text(server.handleClientFinal(ascii(clientFinal))))
                .isEqualTo("v=" + Base64.getEncoder().encodeToString(ref[1]));
    }

    @Test
    void acceptsYFlagWithMatchingBinding() throws Exception {
        ScramServerSession server = serverAfterFirst('y');
        String clientFinal = finalFor("c=eSws,r=" + FINAL_NONCE);
        server.handleClientFinal(ascii(clientFinal));
        assertThat(server.isComplete()).isTrue();
    }

    // ------------------------------------------------------------ client-first errors

    @Test
    void rejectsOtherMechanisms() {
        assertSqlState(SqlState.PROTOCOL_VIOLATION,
                () -> rfcServer().handleClientFirst("SCRAM-SHA-256-PLUS", ascii(RFC_CLIENT_FIRST)))
                .hasMessageContaining("invalid SASL authentication mechanism");
        assertSqlState(SqlState.PROTOCOL_VIOLATION, () -> rfcServer().handleClientFirst("PLAIN", ascii(RFC_CLIENT_FIRST)));
        assertSqlState(SqlState.PROTOCOL_VIOLATION, () -> rfcServer().handleClientFirst(null, ascii(RFC_CLIENT_FIRST)));
    }

    @Test
    void rejectsChannelBindingRequest() {
        assertSqlState(SqlState.PROTOCOL_VIOLATION,
                () -> rfcServer().handleClientFirst(MECH, ascii("p=tls-server-end-point,,n=,r=abc")))
                .hasMessageContaining("channel binding");
    }

    @Test
    void rejectsAuthorizationIdentityAndMandatoryExtensionsLikePostgres() {
        assertSqlState(SqlState.FEATURE_NOT_SUPPORTED, () -> rfcServer().handleClientFirst(MECH, ascii("n,a=bob,n=,r=abc")));
        assertSqlState(SqlState.FEATURE_NOT_SUPPORTED, () -> rfcServer().handleClientFirst(MECH, ascii("n,,m=ext,n=,r=abc")));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "",
        "x,,n=,r=abc",
        "n",
        "n,",
        "nn,n=,r=abc",
        "n,,r=abc",
        "n,,n=",
        "n,,n=,",
        "n,,n=,x=abc",
        "n,,n=,r",
        "n,,n=,r=a b",
        "n,,n=,r=abc,1=x",
        "n,,n=,r=abc,x",
        "y,,n=,r=ab\u00e9",
    })
    void rejectsMalformedClientFirst(String message) {
        assertSqlState(SqlState.PROTOCOL_VIOLATION,
                () -> rfcServer().handleClientFirst(MECH, message.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void rejectsNullAndEmbeddedNul() {
        assertSqlState(SqlState.PROTOCOL_VIOLATION, () -> rfcServer().handleClientFirst(MECH, null));
        assertSqlState(SqlState.PROTOCOL_VIOLATION, () -> rfcServer().handleClientFirst(MECH, ascii("n,,n=,r=abc\0")));
    }

    @Test
    void errorMessagesDoNotEchoRawInput() {
        assertSqlState(SqlState.PROTOCOL_VIOLATION,
                () -> rfcServer().handleClientFirst(MECH, new byte[] {(byte) 0xff, ',', ','}))
                .hasMessageContaining("0xff");
    }

    // ------------------------------------------------------------ client-final errors

    @Test
    void rejectsTamperedNonce() throws Exception {
        ScramServerSession server = serverAfterFirst('n');
        String tampered = finalFor("c=biws,r=" + CLIENT_NONCE + "serverNonce0123456789xyZ");
        assertSqlState(SqlState.PROTOCOL_VIOLATION, () -> server.handleClientFinal(ascii(tampered)))
                .hasMessageContaining("nonce");
        assertThat(server.isComplete()).isFalse();
    }

    @Test
    void rejectsNonceWithExtraSuffix() throws Exception {
        ScramServerSession server = serverAfterFirst('n');
        String tampered = finalFor("c=biws,r=" + FINAL_NONCE + "x");
        assertSqlState(SqlState.PROTOCOL_VIOLATION, () -> server.handleClientFinal(ascii(tampered)));
    }

    @Test
    void tamperedProofIsAWrongPassword() throws Exception {
        ScramServerSession server = serverAfterFirst('n');
        String good = finalFor("c=biws,r=" + FINAL_NONCE);
        byte[] proof = Base64.getDecoder().decode(good.substring(good.indexOf(",p=") + 3));
        proof[0] ^= 1;
        String tampered = "c=biws,r=" + FINAL_NONCE + ",p=" + Base64.getEncoder().encodeToString(proof);
        assertSqlState(SqlState.INVALID_PASSWORD, () -> server.handleClientFinal(ascii(tampered)));
    }

    @Test
    void rejectsTamperedAuthMessage() throws Exception {
        // Proof computed over one client-final-message-without-proof, sent with another extension.
        ScramServerSession server = serverAfterFirst('n');
        String good = finalFor("c=biws,r=" + FINAL_NONCE + ",x=1");
        assertSqlState(SqlState.INVALID_PASSWORD, () -> server.handleClientFinal(ascii(good.replace(",x=1", ",x=2"))));
    }

    @ParameterizedTest
    @ValueSource(strings = {"c=eSws", "c=cD10bHMtc2VydmVyLWVuZC1wb2ludCws", "c=", "c=biws="})
    void rejectsChannelBindingMismatch(String cbind) throws Exception {
        ScramServerSession server = serverAfterFirst('n');
        String clientFinal = finalFor(cbind + ",r=" + FINAL_NONCE);
        assertSqlState(SqlState.PROTOCOL_VIOLATION, () -> server.handleClientFinal(ascii(clientFinal)))
                .hasMessageContaining("channel-binding");
    }

    @Test
    void rejectsNoBindingAfterYFlag() throws Exception {
        ScramServerSession server = serverAfterFirst('y');
        String clientFinal = finalFor("c=biws,r=" + FINAL_NONCE);
        assertSqlState(SqlState.PROTOCOL_VIOLATION, () -> server.handleClientFinal(ascii(clientFinal)));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "",
        "r=" + FINAL_NONCE + ",c=biws,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        "c=biws",
        "c=biws,r=" + FINAL_NONCE,
        "c=biws,r=" + FINAL_NONCE + ",",
        "c=biws,r=" + FINAL_NONCE + ",p",
        "c=biws,r=" + FINAL_NONCE + ",p=",
        "c=biws,r=" + FINAL_NONCE + ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ",
        "c=biws,r=" + FINAL_NONCE + ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgs",
        "c=biws,r=" + FINAL_NONCE + ",p=****ZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        "c=biws,r=" + FINAL_NONCE + ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=,x=1",
        "c=biws,r=" + FINAL_NONCE + ",1=x,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        "c=biws,r=" + FINAL_NONCE + ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=\0",
    })
    void rejectsMalformedClientFinal(String message) {
        ScramServerSession server = serverAfterFirst('n');
        assertSqlState(SqlState.PROTOCOL_VIOLATION, () -> server.handleClientFinal(ascii(message)));
        assertThat(server.isComplete()).isFalse();
    }

    // ------------------------------------------------------------ sequencing

    @Test
    void rejectsMessagesOutOfOrder() {
        assertSqlState(SqlState.PROTOCOL_VIOLATION, () -> rfcServer().handleClientFinal(ascii(RFC_CLIENT_FINAL)));

        ScramServerSession twice = rfcServer();
        twice.handleClientFirst(MECH, ascii(RFC_CLIENT_FIRST));
        assertSqlState(SqlState.PROTOCOL_VIOLATION, () -> twice.handleClientFirst(MECH, ascii(RFC_CLIENT_FIRST)));

        ScramServerSession done = rfcServer();
        done.handleClientFirst(MECH, ascii(RFC_CLIENT_FIRST));
        done.handleClientFinal(ascii(RFC_CLIENT_FINAL));
        assertSqlState(SqlState.PROTOCOL_VIOLATION, () -> done.handleClientFinal(ascii(RFC_CLIENT_FINAL)));
        assertThat(done.isComplete()).isTrue();

        ScramServerSession failed = rfcServer();
        assertSqlState(SqlState.PROTOCOL_VIOLATION, () -> failed.handleClientFirst(MECH, ascii("garbage")));
        assertSqlState(SqlState.PROTOCOL_VIOLATION, () -> failed.handleClientFirst(MECH, ascii(RFC_CLIENT_FIRST)));
    }
}
