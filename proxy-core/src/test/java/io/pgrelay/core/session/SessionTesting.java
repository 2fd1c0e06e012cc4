package io.pgrelay.core.session;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.ssl.SslContext;
import io.pgrelay.core.ProxyContext;
import io.pgrelay.core.route.ReplicaBalancer;
import io.pgrelay.core.auth.UserDirectory;
import io.pgrelay.core.cluster.ClusterState;
import io.pgrelay.core.config.ProxyConfig;
import io.pgrelay.core.config.ProxyConfig.AuthConfig;
import io.pgrelay.core.config.ProxyConfig.NodeConfig;
import io.pgrelay.core.config.ProxyConfig.TlsConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Builds {@link ProxyContext}s for the client-side handler tests: a real configuration with
 * one node, a real user directory and cancel registry, and no pools, monitor or event
 * loops. The node is never probed, so the cluster has no primary: a session that gets
 * past authentication ends with 57P03 "no primary node is available" without touching
 * a pool, which is how these tests observe the hand-over to {@link ClientSession}.
 */
final class SessionTesting {
    static final NodeConfig NODE = new NodeConfig("pg1", "127.0.0.1", 5432, null);

    private SessionTesting() {
    }

    static ProxyContext context(AuthConfig auth, TlsConfig tls, SslContext clientSsl, int maxClientConnections) {
        ProxyConfig config = new ProxyConfig(null, null, null, maxClientConnections, null, tls, null, null, null,
                List.of(NODE), auth, null, null, null);
        return context(config, new UserDirectory(config.auth()), clientSsl);
    }

    static ProxyContext context(ProxyConfig config, UserDirectory users, SslContext clientSsl) {
        // No monitor runs here, so no primary ever appears: fail at once instead of waiting for one.
        config = new ProxyConfig(config.listen(), config.poolMode(), config.workers(), config.maxClientConnections(),
                config.maxMessageSize(), config.tls(), config.backend(), config.pool(), config.admin(), config.nodes(),
                config.auth(), config.monitor(), config.routing(), new ProxyConfig.FailoverConfig(
                        config.failover().automatic(), config.failover().detect(), config.failover().hooks(),
                        config.failover().hookTimeout(), config.failover().switchoverTimeout(), java.time.Duration.ZERO));
        return new ProxyContext(config, new ClusterState(config.nodes()), null, null, users, new CancelRegistry(),
                null, clientSsl, null, null, new AtomicInteger(), database -> null,
                ReplicaBalancer.of("round-robin"), node -> true, new io.pgrelay.core.route.PrimaryGate(), null);
    }

    /**
     * An outbound handler to put first in a pipeline: records, for every write, the names
     * of the handlers in the pipeline at that moment.
     */
    static final class PipelineProbe extends ChannelOutboundHandlerAdapter {
        final List<List<String>> pipelineAtWrite = new ArrayList<>();

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            pipelineAtWrite.add(List.copyOf(ctx.pipeline().names()));
            ctx.write(msg, promise);
        }
    }
}
