package io.pgrelay.core.auth;

import io.pgrelay.core.config.AuthMethod;
import io.pgrelay.protocol.auth.ScramSecret;

/**
 * What pgrelay needs to check one client user's login: the method, the SCRAM secret
 * derived once at start (PBKDF2 is too slow to run per login), and, when the configured
 * password is in the clear, the password itself (for md5 and cleartext checks).
 */
public record ClientCredentials(String user, AuthMethod method, ScramSecret scramSecret, String md5Hash,
                                String plainPassword, String backendUser, String backendPassword) {
}
