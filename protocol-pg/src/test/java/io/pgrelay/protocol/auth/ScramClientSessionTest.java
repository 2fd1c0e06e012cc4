package io.pgrelay.protocol.auth;

import static io.pgrelay.protocol.auth.ScramTestSupport.RFC_CLIENT_FINAL;
import static io.pgrelay.protocol.auth.ScramTestSupport.RFC_CLIENT_FIRST;
import static io.pgrelay.protocol.auth.ScramTestSupport.RFC_CLIENT_NONCE;
import static io.pgrelay.protocol.auth.ScramTestSupport.RFC_PASSWORD;
import static io.pgrelay.protocol.auth.ScramTestSupport.RFC_SERVER_FINAL;
import static io.pgrelay.protocol.auth.ScramTestSupport.RFC_SERVER_FIRST;
import static io.pgrelay.protocol.auth.ScramTestSupport.ascii;
import static io.pgrelay.protocol.auth.ScramTestSupport.assertSqlState;
import static io.pgrelay.protocol.auth.ScramTestSupport.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgrelay.protocol.SqlState;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ScramClientSessionTest {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String RFC_FULL_NONCE = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";

    private static ScramClientSession rfcClient() {
        return new ScramClientSession(RFC_PASSWORD, NonceSource.fixed(RFC_CLIENT_NONCE),
                ScramClientSession.DEFAULT_MAX_ITERATIONS, "user");
    }

    /** A libpq-style client ("n=") that has sent its first message with the RFC client nonce. */
    private static ScramClientSession startedClient(String password) {
        ScramClientSession client = new ScramClientSession(password, NonceSource.fixed(RFC_CLIENT_NONCE));
        client.clientFirstMessage();
        return client;
    }

    @Test
    void rfc7677VectorClientSide() {
        ScramClientSession client = rfcClient();
        assertThat(text(client.clientFirstMessage())).isEqualTo(RFC_CLIENT_FIRST);
        assertThat(text(client.handleServerFirst(ascii(RFC_SERVER_FIRST)))).isEqualTo(RFC_CLIENT_FINAL);
        assertThat(client.isComplete()).isFalse();
        client.handleServerFinal(ascii(RFC_SERVER_FINAL));
        assertThat(client.isComplete()).isTrue();
    }

    @Test
    void sendsEmptyUserNameLikeLibpq() throws Exception {
        ScramClientSession client = new ScramClientSession(RFC_PASSWORD, NonceSource.fixed(RFC_CLIENT_NONCE));
        assertThat(client.mechanism()).isEqualTo("SCRAM-SHA-256");
        assertThat(text(client.clientFirstMessage())).isEqualTo("n,,n=,r=" + RFC_CLIENT_NONCE);

        // With "n=" the AuthMessage differs from the RFC's; values from the independent reference.
        String withoutProof = "c=biws,r=" + RFC_FULL_NONCE;
        byte[][] ref = ScramTestSupport.refProofAndSignature(RFC_PASSWORD, ScramTestSupport.rfcSalt(), 4096,
                "n=,r=" + RFC_CLIENT_NONCE, RFC_SERVER_FIRST, withoutProof);
        String expectedFinal = withoutProof + ",p=" + Base64.getEncoder().encodeToString(ref[0]);
        // Also computed with Python's hashlib/hmac.
        assertThat(expectedFinal).endsWith(",p=qvT2SWdEH5Q06albL+hjSYuUhCG7VndFyzIb7CK4n9k=");

        assertThat(text(client.handleServerFirst(ascii(RFC_SERVER_FIRST)))).isEqualTo(expectedFinal);
        client.handleServerFinal(ascii("v=" + Base64.getEncoder().encodeToString(ref[1])));
        assertThat(client.isComplete()).isTrue();
    }

    @Test
    void randomNoncesLookLikePostgres() {
        ScramClientSession client = new ScramClientSession("pw", NonceSource.secureRandom(RANDOM));
        String first = text(client.clientFirstMessage());
        assertThat(first).matches("n,,n=,r=[A-Za-z0-9+/]{24}");
        assertThat(first).isNotEqualTo(text(new ScramClientSession("pw", NonceSource.secureRandom(RANDOM))
                .clientFirstMessage()));
    }

    @Test
    void acceptsServerExtensions() {
        ScramClientSession client = rfcClient();
        client.clientFirstMessage();
        // Extensions change the AuthMessage, so just check they parse and yield a proof.
        assertThat(text(client.handleServerFirst(ascii(RFC_SERVER_FIRST + ",x=future")))).contains(",p=");
    }

    @Test
    void selectsMechanism() {
        assertThat(ScramClientSession.selectMechanism(List.of("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256")))
                .isEqualTo("SCRAM-SHA-256");
        assertSqlState(SqlState.FEATURE_NOT_SUPPORTED,
                () -> ScramClientSession.selectMechanism(List.of("SCRAM-SHA-256-PLUS")));
        assertSqlState(SqlState.FEATURE_NOT_SUPPORTED, () -> ScramClientSession.selectMechanism(List.of()));
    }

    // ------------------------------------------------------------ server-first errors

    @ParameterizedTest
    @ValueSource(strings = {
        "r=somebodyElsesNonce123,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        "r=rOprNGfwEbeRWgbNEk,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        "r=XOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
    })
    void rejectsServerNonceNotExtendingOurs(String serverFirst) {
        ScramClientSession client = startedClient(RFC_PASSWORD);
        assertSqlState(SqlState.PROTOCOL_VIOLATION, () -> client.handleServerFirst(ascii(serverFirst)))
                .hasMessageContaining("nonce");
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "-1", "", "abc", "4096x", " 4096", "+4096", "000"})
    void rejectsInvalidIterationCounts(String iterations) {
        ScramClientSession client = startedClient(RFC_PASSWORD);
        String serverFirst = "r=" + RFC_FULL_NONCE + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=" + iterations;
        assertSqlState(SqlState.PROTOCOL_VIOLATION, () -> client.handleServerFirst(ascii(serverFirst)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"1000001", "2147483647", "99999999999999999999"})
    void rejectsIterationCountsAboveTheLimit(String iterations) {
        ScramClientSession client = startedClient(RFC_PASSWORD);
        String serverFirst = "r=" + RFC_FULL_NONCE + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=" + iterations;
        assertSqlState(SqlState.PROTOCOL_VIOLATION, () -> client.handleServerFirst(ascii(serverFirst)))
                .hasMessageContaining("exceeds");
    }

    @Test
    void iterationLimitIsConfigurable() {
        ScramClientSession client = new ScramClientSession(RFC_PASSWORD, NonceSource.fixed(RFC_CLIENT_NONCE), 4095);
        client.clientFirstMessage();
        assertSqlState(SqlState.PROTOCOL_VIOLATION, () -> client.handleServerFirst(ascii(RFC_SERVER_FIRST)));
        assertThatThrownBy(() -> new ScramClientSession("pw", NonceSource.fixed("n"), 0))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "",
        "s=W22ZaJ0SNY7soEsUEjb6gQ==,r=" + RFC_FULL_NONCE + ",i=4096",
        "m=ext,r=" + RFC_FULL_NONCE + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        "r=" + RFC_FULL_NONCE,
        "r=" + RFC_FULL_NONCE + ",s=,i=4096",
        "r=" + RFC_FULL_NONCE + ",s=W22ZaJ0SNY7soEsUEjb6gQ,i=4096",
        "r=" + RFC_FULL_NONCE + ",s=****,i=4096",
        "r=" + RFC_FULL_NONCE + ",s=W22ZaJ0SNY7soEsUEjb6gQ==",
        "r=" + RFC_FULL_NONCE + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,garbage",
        "r=" + RFC_FULL_NONCE + " x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        "r=" + RFC_FULL_NONCE + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096\0",
    })
    void rejectsMalformedServerFirst(String serverFirst) {
        ScramClientSession client = startedClient(RFC_PASSWORD);
        assertSqlState(SqlState.PROTOCOL_VIOLATION, () -> client.handleServerFirst(ascii(serverFirst)));
        assertThat(client.isComplete()).isFalse();
    }

    // ------------------------------------------------------------ server-final errors

    private static ScramClientSession clientAwaitingFinal() {
        ScramClientSession client = rfcClient();
        client.clientFirstMessage();
        client.handleServerFirst(ascii(RFC_SERVER_FIRST));
        return client;
    }

    @Test
    void rejectsWrongServerSignature() {
        byte[] signature = Base64.getDecoder().decode(RFC_SERVER_FINAL.substring(2));
        signature[31] ^= 1;
        ScramClientSession client = clientAwaitingFinal();
        assertSqlState(SqlState.INVALID_AUTHORIZATION_SPECIFICATION,
                () -> client.handleServerFinal(ascii("v=" + Base64.getEncoder().encodeToString(signature))))
                .hasMessage("incorrect server signature");
        assertThat(client.isComplete()).isFalse();
    }

    @Test
    void wrongPasswordMeansServerSignatureMismatch() {
        // A server that knows "pencil" answers a client that used "pencil2" (if it let it in).
        ScramClientSession client = new ScramClientSession("pencil2", NonceSource.fixed(RFC_CLIENT_NONCE),
                ScramClientSession.DEFAULT_MAX_ITERATIONS, "user");
        client.clientFirstMessage();
        client.handleServerFirst(ascii(RFC_SERVER_FIRST));
        assertSqlState(SqlState.INVALID_AUTHORIZATION_SPECIFICATION,
                () -> client.handleServerFinal(ascii(RFC_SERVER_FINAL)));
    }

    @Test
    void reportsServerErrors() {
        assertSqlState(SqlState.INVALID_PASSWORD, () -> clientAwaitingFinal().handleServerFinal(ascii("e=invalid-proof")))
                .hasMessageContaining("invalid-proof");
        assertSqlState(SqlState.INVALID_AUTHORIZATION_SPECIFICATION,
                () -> clientAwaitingFinal().handleServerFinal(ascii("e=other-error")))
                .hasMessageContaining("other-error");
        assertSqlState(SqlState.INVALID_AUTHORIZATION_SPECIFICATION,
                () -> clientAwaitingFinal().handleServerFinal(new byte[] {'e', '=', (byte) 0xC3, (byte) 0xA9}))
                .hasMessageEndingWith("??");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "",
        "x=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
        "v=",
        "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4",
        "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5n",
        "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=,garbage",
        "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=\0",
        "e",
    })
    void rejectsMalformedServerFinal(String serverFinal) {
        ScramClientSession client = clientAwaitingFinal();
        assertSqlState(SqlState.PROTOCOL_VIOLATION, () -> client.handleServerFinal(ascii(serverFinal)));
        assertThat(client.isComplete()).isFalse();
    }

    @Test
    void acceptsServerFinalExtensions() {
        ScramClientSession client = clientAwaitingFinal();
        client.handleServerFinal(ascii(RFC_SERVER_FINAL + ",x=1"));
        assertThat(client.isComplete()).isTrue();
    }

    // ------------------------------------------------------------ sequencing

    @Test
    void enforcesMessageOrder() {
        ScramClientSession notStarted = new ScramClientSession("pw", NonceSource.fixed("abc"));
        assertSqlState(SqlState.PROTOCOL_VIOLATION, () -> notStarted.handleServerFirst(ascii(RFC_SERVER_FIRST)));

        ScramClientSession client = new ScramClientSession("pw", NonceSource.fixed("abc"));
        client.clientFirstMessage();
        assertThatThrownBy(client::clientFirstMessage).isInstanceOf(IllegalStateException.class);
        assertSqlState(SqlState.PROTOCOL_VIOLATION, () -> client.handleServerFinal(ascii(RFC_SERVER_FINAL)));
        // After a failure, nothing more is accepted.
        assertSqlState(SqlState.PROTOCOL_VIOLATION, () -> client.handleServerFirst(ascii("r=abcdef,s=AAAA,i=1")));

        ScramClientSession done = clientAwaitingFinal();
        done.handleServerFinal(ascii(RFC_SERVER_FINAL));
        assertSqlState(SqlState.PROTOCOL_VIOLATION, () -> done.handleServerFinal(ascii(RFC_SERVER_FINAL)));
        assertThat(done.isComplete()).isTrue();
    }

    @Test
    void rejectsInvalidInjectedNonce() {
        assertThatThrownBy(() -> new ScramClientSession("pw", NonceSource.fixed("a,b")).clientFirstMessage())
                .isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> new ScramClientSession("pw", NonceSource.fixed("")).clientFirstMessage())
                .isInstanceOf(IllegalStateException.class);
    }

    // ------------------------------------------------------------ derived-key cache

    @Test
    void reusesDerivedKeysForTheSameBackend() {
        byte[] salt = new byte[16];
        RANDOM.nextBytes(salt);
        ScramSecret secret = ScramSecret.fromPassword("cached", salt, 2048);
        long before = ScramClientSession.keyDerivations();

        for (int i = 0; i < 3; i++) {
            loginOnce("cached", secret);
        }
        assertThat(ScramClientSession.keyDerivations() - before).isEqualTo(1);

        // Another salt, iteration count or password is another entry.
        loginOnce("cached", ScramSecret.fromPassword("cached", salt, 2049));
        byte[] otherSalt = salt.clone();
        otherSalt[0] ^= 1;
        loginOnce("cached", ScramSecret.fromPassword("cached", otherSalt, 2048));
        assertThat(ScramClientSession.keyDerivations() - before).isEqualTo(3);

        ScramClientSession wrong = new ScramClientSession("other", NonceSource.secureRandom(RANDOM));
        ScramServerSession server = new ScramServerSession("u", secret, NonceSource.secureRandom(RANDOM));
        byte[] clientFinal = wrong.handleServerFirst(server.handleClientFirst(ScramSha256.MECHANISM,
                wrong.clientFirstMessage()));
        assertSqlState(SqlState.INVALID_PASSWORD, () -> server.handleClientFinal(clientFinal));
        assertThat(ScramClientSession.keyDerivations() - before).isEqualTo(4);
    }

    @Test
    void cacheIsBounded() {
        for (int i = 0; i < ScramClientSession.KEY_CACHE_CAPACITY + 50; i++) {
            byte[] salt = new byte[16];
            RANDOM.nextBytes(salt);
            ScramClientSession client = new ScramClientSession("bounded", NonceSource.fixed("abc"));
            client.clientFirstMessage();
            client.handleServerFirst(ascii("r=abcdef,s=" + Base64.getEncoder().encodeToString(salt) + ",i=1"));
        }
        assertThat(ScramClientSession.keyCacheSize()).isEqualTo(ScramClientSession.KEY_CACHE_CAPACITY);
        ScramClientSession.clearKeyCache();
        assertThat(ScramClientSession.keyCacheSize()).isZero();
    }

    private static void loginOnce(String password, ScramSecret secret) {
        NonceSource nonces = NonceSource.secureRandom(RANDOM);
        ScramClientSession client = new ScramClientSession(password, nonces);
        ScramServerSession server = new ScramServerSession("u", secret, nonces);
        byte[] serverFinal = server.handleClientFinal(
                client.handleServerFirst(server.handleClientFirst(ScramSha256.MECHANISM, client.clientFirstMessage())));
        client.handleServerFinal(serverFinal);
        assertThat(client.isComplete()).isTrue();
    }
}
