package io.pgrelay.core.session;

import com.codahale.metrics.MetricRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.util.ReferenceCountUtil;
import io.pgrelay.core.auth.ClientCredentials;
import io.pgrelay.core.backend.BackendPools;
import io.pgrelay.core.classify.Classification;
import io.pgrelay.core.cluster.ClusterState;
import io.pgrelay.core.config.ProxyConfig;
import io.pgrelay.core.config.ProxyConfig.FailoverConfig;
import io.pgrelay.core.config.ProxyConfig.NodeConfig;
import io.pgrelay.core.metrics.ProxyMetrics;
import io.pgrelay.core.net.Transport;
import io.pgrelay.core.route.PrimaryGate;
import io.pgrelay.core.route.ReplicaBalancer;
import io.pgrelay.protocol.message.frontend.StartupMessage;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The collaborators of the client-side handler tests. Sessions built here run over a cluster
 * of one node that is never probed, so it has no primary: a session that gets past
 * authentication ends with 57P03 "no primary node is available" without touching a pool or a
 * classifier, which is how these tests observe the hand-over to {@link ClientSession}.
 */
final class SessionTesting {
    static final NodeConfig NODE = new NodeConfig("pg1", "127.0.0.1", 5432, null);
    static final int MAX_MESSAGE_BYTES = 1 << 20;

    /** No monitor runs here, so no primary ever appears: sessions fail at once instead of waiting for one. */
    private static final ProxyConfig CONFIG = new ProxyConfig(null, null, null, null, null, null, null, null, null,
            List.of(NODE), null, null, null, new FailoverConfig(null, null, null, null, null, Duration.ZERO), null, null, null);

    /** The sessions never get as far as a backend. */
    private static final BackendPools NO_BACKENDS = (node, user, database, password) -> {
        throw new AssertionError("this test has no backend pools");
    };

    /** A classifier these tests never reach: a session without a primary classifies nothing. */
    private static final SessionClassifier UNUSED_CLASSIFIER = new SessionClassifier() {
        @Override
        public Classification classify(ByteBuf buf, int index, int length, boolean standardConformingStrings) {
            throw new AssertionError("this test classifies no statement");
        }

        @Override
        public void schemaChanged() {
            throw new AssertionError("this test classifies no statement");
        }

        @Override
        public void rememberPrimary(ByteBuf buf, int index, int length, boolean standardConformingStrings) {
            throw new AssertionError("this test classifies no statement");
        }
    };

    private SessionTesting() {
    }

    /** Metrics over the test cluster, in a registry of their own. */
    static ProxyMetrics metrics() {
        return new ProxyMetrics(new MetricRegistry(), new ClusterState(List.of(NODE)));
    }

    /** Real sessions that end with 57P03; {@code cancels} is where they register and unregister. */
    static SessionFactory sessions(CancelRegistry cancels) {
        ClusterState cluster = new ClusterState(CONFIG.nodes());
        return new SessionFactory(CONFIG, cluster, node -> { }, NO_BACKENDS, database -> UNUSED_CLASSIFIER,
                ReplicaBalancer.of("round-robin"), node -> true, new PrimaryGate(),
                new ProxyMetrics(new MetricRegistry(), cluster), cancels, new CancelSender(Transport.NIO));
    }

    /** After login: a real session; the console is not part of these tests. */
    static LoggedInHandlers realSessions(SessionFactory sessions) {
        return new LoggedInHandlers() {
            @Override
            public ChannelHandler session(StartupMessage startup, ClientCredentials credentials) {
                return sessions.session(startup, credentials);
            }

            @Override
            public ChannelHandler console(StartupMessage startup, ClientRegistry.Entry client) {
                throw new AssertionError("no console in this test");
            }
        };
    }

    /**
     * After login: a stand-in that records what was asked for and installs a handler that only
     * releases what it reads, so a test sees the hand-over itself.
     */
    static final class RecordingHandlers implements LoggedInHandlers {
        /** One hand-over: {@code kind} is "session" or "console"; {@code credentials} are a session's. */
        record Handover(String kind, StartupMessage startup, ClientCredentials credentials,
                        ClientRegistry.Entry client, ChannelHandler handler) {
        }

        final List<Handover> handovers = new ArrayList<>();

        @Override
        public ChannelHandler session(StartupMessage startup, ClientCredentials credentials) {
            ChannelHandler handler = new Releasing();
            handovers.add(new Handover("session", startup, credentials, null, handler));
            return handler;
        }

        @Override
        public ChannelHandler console(StartupMessage startup, ClientRegistry.Entry client) {
            ChannelHandler handler = new Releasing();
            handovers.add(new Handover("console", startup, null, client, handler));
            return handler;
        }

        private static final class Releasing extends ChannelInboundHandlerAdapter {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ReferenceCountUtil.release(msg);
            }
        }
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
