package io.pgrelay.core.session;

import io.pgrelay.core.backend.BackendConnection;
import io.pgrelay.core.backend.ReplyDeadline;
import io.pgrelay.core.cluster.Ban;
import io.pgrelay.core.cluster.ClusterState;
import io.pgrelay.core.cluster.NodeProbes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;

/**
 * What the proxy does about a server that stops answering ({@link ReplyDeadline}): asks it to
 * cancel, as a client would; when even that gets no answer, takes a replica out of the reads of
 * every session ({@link Ban}) and has the monitor look at the node now.
 */
public final class SilentServers implements ReplyDeadline.Faults {
    private static final Logger log = LoggerFactory.getLogger(SilentServers.class);

    private final CancelSender cancels;
    private final ClusterState cluster;
    private final NodeProbes monitor;
    private final long banMillis;

    public SilentServers(CancelSender cancels, ClusterState cluster, NodeProbes monitor, long banMillis) {
        this.cancels = cancels;
        this.cluster = cluster;
        this.monitor = monitor;
        this.banMillis = banMillis;
    }

    @Override
    public void cancel(BackendConnection backend) {
        log.info("{} sent nothing within backend.query-timeout: cancelling its statement", backend);
        InetSocketAddress address = backend.remoteAddress();
        cancels.send(backend.eventLoop(), address.getHostString(), address.getPort(), backend.processId(),
                backend.secretKey());
    }

    @Override
    public void frozen(BackendConnection backend, String detail) {
        log.warn("{}: {}; closing the connection", backend, detail);
        cluster.ban(backend.nodeIndex(), Ban.Cause.QUERY_TIMEOUT, detail, banMillis);
        monitor.probeSoon(backend.nodeIndex());
    }
}
