package io.pgrelay.testkit;

import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * TLS on every node of a {@link LocalCluster}: {@code ssl = on} with this server certificate
 * and key, client certificates checked against {@code clientCaPem}, and roles that log in over
 * TCP with a client certificate only ({@code hostssl ... cert} in pg_hba.conf: the certificate's
 * common name is the role). Every other role keeps its password method, with or without TLS.
 *
 * @param certificatePem   the server certificate (PEM), followed by any intermediates
 * @param keyPem           its private key (PEM)
 * @param clientCaPem      the CA certificate(s) client certificates must chain to (PEM)
 * @param certificateUsers configured roles that must present a client certificate
 */
public record ServerTls(String certificatePem, String keyPem, String clientCaPem, List<String> certificateUsers) {
    /** File names in each data directory; relative paths in postgresql.conf are taken from there. */
    static final String CERT_FILE = "server.crt";
    static final String KEY_FILE = "server.key";
    static final String CA_FILE = "client-ca.crt";
    private static final Pattern ROLE = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

    public ServerTls {
        Objects.requireNonNull(certificatePem, "certificatePem");
        Objects.requireNonNull(keyPem, "keyPem");
        Objects.requireNonNull(clientCaPem, "clientCaPem");
        certificateUsers = List.copyOf(certificateUsers);
        for (String user : certificateUsers) {
            if (!ROLE.matcher(user).matches()) {
                throw new IllegalArgumentException("role name must match " + ROLE.pattern() + ": " + user);
            }
        }
    }
}
