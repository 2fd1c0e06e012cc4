package io.pgrelay.testkit;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A login role created on a {@link LocalCluster}'s primary.
 *
 * @param name      role name: lower-case letters, digits and underscores, not starting with a digit
 * @param password  clear-text password (stored hashed according to {@code method})
 * @param method    how the password is stored and which {@code pg_hba.conf} method applies to it
 * @param superuser whether the role is a superuser
 */
public record ClusterUser(String name, String password, AuthMethod method, boolean superuser) {
    private static final Pattern NAME = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

    /** Password storage and host authentication method. */
    public enum AuthMethod {
        /** Password stored as a SCRAM-SHA-256 verifier; {@code scram-sha-256} in pg_hba.conf. */
        SCRAM("scram-sha-256"),
        /** Password stored as an MD5 hash; {@code md5} in pg_hba.conf. */
        MD5("md5");

        private final String pgName;

        AuthMethod(String pgName) {
            this.pgName = pgName;
        }

        /** The value for {@code password_encryption} and for the pg_hba.conf method column. */
        public String pgName() {
            return pgName;
        }
    }

    public ClusterUser {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(password, "password");
        Objects.requireNonNull(method, "method");
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("user name must match " + NAME.pattern() + ": " + name);
        }
        if (password.isEmpty()) {
            throw new IllegalArgumentException("password of " + name + " must not be empty");
        }
        for (int i = 0; i < password.length(); i++) {
            if (Character.isISOControl(password.charAt(i))) {
                throw new IllegalArgumentException("password of " + name + " must not contain control characters");
            }
        }
    }

    /** A SCRAM login role. */
    public static ClusterUser scram(String name, String password) {
        return new ClusterUser(name, password, AuthMethod.SCRAM, false);
    }

    /** A login role whose password is stored as MD5 and authenticated with the md5 method. */
    public static ClusterUser md5(String name, String password) {
        return new ClusterUser(name, password, AuthMethod.MD5, false);
    }

    @Override
    public String toString() {
        return "ClusterUser[" + name + ", " + method + (superuser ? ", superuser" : "") + "]";
    }
}
