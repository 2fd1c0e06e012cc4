package io.pgrelay.core.auth;

import io.pgrelay.core.config.AuthMethod;
import io.pgrelay.core.config.ConfigException;
import io.pgrelay.core.config.ProxyConfig.AuthConfig;
import io.pgrelay.core.config.ProxyConfig.UserConfig;
import io.pgrelay.protocol.auth.Md5Password;
import io.pgrelay.protocol.auth.ScramSecret;

import java.security.SecureRandom;
import java.util.HashMap;
import java.util.Map;

/**
 * The client-facing users, prepared for login checks. A configured password may be in the
 * clear, a PostgreSQL SCRAM verifier ({@code SCRAM-SHA-256$...}) or an md5 hash
 * ({@code md5...}); which methods it supports follows from that.
 */
public final class UserDirectory {
    private static final int SCRAM_ITERATIONS = 4096;

    private final Map<String, ClientCredentials> users = new HashMap<>();

    public UserDirectory(AuthConfig auth) {
        SecureRandom random = new SecureRandom();
        for (UserConfig user : auth.users()) {
            AuthMethod method = user.method() != null ? user.method() : auth.method();
            String password = user.password();
            ScramSecret scram = null;
            String md5 = null;
            String plain = null;
            if (password.startsWith("SCRAM-SHA-256$")) {
                try {
                    scram = ScramSecret.parse(password);
                } catch (IllegalArgumentException e) {
                    throw new ConfigException("auth.users." + user.name() + ": invalid SCRAM verifier: " + e.getMessage());
                }
            } else if (Md5Password.isEncoded(password)) {
                md5 = password;
            } else {
                plain = password;
                scram = ScramSecret.fromPassword(password, SCRAM_ITERATIONS, random);
                md5 = Md5Password.encode(user.name(), password);
            }
            switch (method) {
                case SCRAM_SHA_256 -> require(scram != null, user, "a plain password or a SCRAM verifier");
                case MD5 -> require(md5 != null, user, "a plain password or an md5 hash");
                case PASSWORD -> require(plain != null || md5 != null, user, "a plain password or an md5 hash");
                case TRUST -> {
                }
            }
            String backendPassword = user.backendPassword() != null ? user.backendPassword() : plain;
            users.put(user.name(), new ClientCredentials(user.name(), method, scram, md5, plain,
                    user.effectiveBackendUser(), backendPassword));
        }
    }

    private static void require(boolean ok, UserConfig user, String what) {
        if (!ok) {
            throw new ConfigException("auth.users." + user.name() + ": this auth method needs " + what);
        }
    }

    /** The user's credentials, or null for a user pgrelay does not know. */
    public ClientCredentials find(String user) {
        return users.get(user);
    }
}
