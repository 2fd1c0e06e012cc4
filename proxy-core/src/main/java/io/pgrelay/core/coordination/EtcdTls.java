package io.pgrelay.core.coordination;

import io.grpc.netty.GrpcSslContexts;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.pgrelay.core.config.CoordinationConfig.EtcdConfig;

import javax.net.ssl.SSLException;
import java.io.File;

/**
 * The TLS context toward etcd's {@code https://} endpoints: the members' certificates checked
 * against {@code tls-ca} (or the JVM's trust store) and their host names against the endpoint
 * URLs, as gRPC always does; a client certificate when {@code tls-cert}/{@code tls-key} are set.
 */
final class EtcdTls {
    private EtcdTls() {
    }

    static SslContext context(EtcdConfig config) {
        try {
            SslContextBuilder builder = GrpcSslContexts.forClient();
            if (config.tlsCa() != null) {
                builder.trustManager(new File(config.tlsCa()));
            }
            if (config.tlsCert() != null) {
                builder.keyManager(new File(config.tlsCert()), new File(config.tlsKey()));
            }
            return builder.build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new IllegalStateException("coordination.etcd: cannot use the TLS files ("
                    + config.tlsCa() + ", " + config.tlsCert() + "): " + e.getMessage(), e);
        }
    }
}
