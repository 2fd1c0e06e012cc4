package io.pgrelay.protocol.auth;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgrelay.protocol.PgProtocolException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;
import org.assertj.core.api.AbstractThrowableAssert;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/**
 * RFC 7677 section 3 test vector, and an independent SCRAM-SHA-256 reference built only on JDK
 * primitives ({@code PBKDF2WithHmacSHA256}, {@code HmacSHA256}, {@code SHA-256}) so tests do not
 * check the production code against itself.
 */
final class ScramTestSupport {
    static final String RFC_USER = "user";
    static final String RFC_PASSWORD = "pencil";
    static final String RFC_CLIENT_NONCE = "rOprNGfwEbeRWgbNEkqO";
    static final String RFC_SERVER_NONCE = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    static final String RFC_SALT_B64 = "W22ZaJ0SNY7soEsUEjb6gQ==";
    static final int RFC_ITERATIONS = 4096;
    static final String RFC_CLIENT_FIRST = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
    static final String RFC_SERVER_FIRST =
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    static final String RFC_CLIENT_FINAL = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
            + "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    static final String RFC_SERVER_FINAL = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
    /**
     * The RFC vector's secret in pg_authid form, computed with Python's hashlib.pbkdf2_hmac /
     * hmac / hashlib.sha256 (an independent implementation).
     */
    static final String RFC_VERIFIER = "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$"
            + "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=";

    private ScramTestSupport() {
    }

    static byte[] rfcSalt() {
        return Base64.getDecoder().decode(RFC_SALT_B64);
    }

    static ScramSecret rfcSecret() {
        return ScramSecret.parse(RFC_VERIFIER);
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    static String text(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    /** Asserts that {@code call} throws a {@link PgProtocolException} with {@code sqlState}. */
    static AbstractThrowableAssert<?, ? extends Throwable> assertSqlState(String sqlState, ThrowingCallable call) {
        return assertThatThrownBy(call)
                .isInstanceOf(PgProtocolException.class)
                .satisfies(e -> org.assertj.core.api.Assertions
                        .assertThat(((PgProtocolException) e).sqlState()).isEqualTo(sqlState));
    }

    // ------------------------------------------------------------ independent reference

    /** SaltedPassword via the JDK's PBKDF2 (ASCII passwords only: it encodes chars itself). */
    static byte[] refSaltedPassword(String password, byte[] salt, int iterations) throws Exception {
        SecretKeyFactory f = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256");
        return f.generateSecret(new PBEKeySpec(password.toCharArray(), salt, iterations, 256)).getEncoded();
    }

    static byte[] refHmac(byte[] key, String data) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        return mac.doFinal(data.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** Reference (clientProof, serverSignature) for the given AuthMessage parts. */
    static byte[][] refProofAndSignature(String password, byte[] salt, int iterations, String clientFirstBare,
            String serverFirst, String clientFinalWithoutProof) throws Exception {
        byte[] salted = refSaltedPassword(password, salt, iterations);
        byte[] clientKey = refHmac(salted, "Client Key");
        byte[] storedKey = MessageDigest.getInstance("SHA-256").digest(clientKey);
        byte[] serverKey = refHmac(salted, "Server Key");
        String authMessage = clientFirstBare + "," + serverFirst + "," + clientFinalWithoutProof;
        byte[] clientSignature = refHmac(storedKey, authMessage);
        byte[] proof = new byte[clientKey.length];
        for (int i = 0; i < proof.length; i++) {
            proof[i] = (byte) (clientKey[i] ^ clientSignature[i]);
        }
        return new byte[][] {proof, refHmac(serverKey, authMessage)};
    }

    /** A client-final-message for {@code withoutProof}, with a reference proof appended. */
    static String refClientFinal(String password, byte[] salt, int iterations, String clientFirstBare,
            String serverFirst, String withoutProof) throws Exception {
        byte[] proof = refProofAndSignature(password, salt, iterations, clientFirstBare, serverFirst, withoutProof)[0];
        return withoutProof + ",p=" + Base64.getEncoder().encodeToString(proof);
    }
}
