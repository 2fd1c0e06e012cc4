package io.pgrelay.core.session;

import io.pgrelay.core.config.ConfigException;
import io.pgrelay.core.config.HostPort;
import io.pgrelay.core.coordination.IssuedProcessIds;
import io.pgrelay.core.coordination.Membership;
import io.pgrelay.core.coordination.ProxyMember;
import io.pgrelay.core.metrics.ProxyMetrics;
import io.pgrelay.core.metrics.ProxyMetrics.ForwardedCancel;
import io.pgrelay.protocol.message.frontend.CancelRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Passes a CancelRequest for a key another instance issued to that instance, as a load balancer
 * may send the cancel to any of them: the process id names the issuer's slot
 * ({@link IssuedProcessIds}), the membership says which live instance holds it and where it is
 * reached ({@link ProxyMember#advertised()}). It gets the same 16-byte CancelRequest on a new
 * connection, as from a client. A key naming no slot, this instance's own, or a slot no live
 * instance holds is dropped, as the server drops an unknown key.
 *
 * <p>The connection is made on a small pool of threads of its own ({@code pgrelay-cancel-forward}),
 * never on an event loop (resolving the advertised name and connecting may block), within
 * {@link #TIMEOUT}; a queue full of forwards still under way drops the next one.
 */
public final class CancelForwarder implements CancelRegistry.Elsewhere {
    private static final Logger log = LoggerFactory.getLogger(CancelForwarder.class);
    /** Connecting to the issuer and writing the request; a cancel later than this is of little use. */
    static final Duration TIMEOUT = Duration.ofSeconds(2);
    private static final int THREADS = 2;
    private static final int QUEUED = 128;

    private final Supplier<Membership> membership;
    private final ProxyMetrics metrics;
    private final ThreadPoolExecutor threads;

    public CancelForwarder(Supplier<Membership> membership, ProxyMetrics metrics) {
        this.membership = membership;
        this.metrics = metrics;
        AtomicInteger count = new AtomicInteger();
        this.threads = new ThreadPoolExecutor(THREADS, THREADS, 30, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(QUEUED), r -> {
                    Thread t = new Thread(r, "pgrelay-cancel-forward-" + count.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        threads.allowCoreThreadTimeOut(true);
    }

    @Override
    public boolean cancel(int processId, int secretKey) {
        ProxyMember issuer = issuer(membership.get(), processId);
        if (issuer == null) {
            return false;
        }
        try {
            threads.execute(() -> send(issuer, processId, secretKey));
            return true;
        } catch (RejectedExecutionException e) {
            metrics.cancelForwarded(ForwardedCancel.OVERFLOW);
            log.warn("cancel request for a session of {} dropped: {} forwards already under way", issuer.id(),
                    QUEUED + THREADS);
            return false;
        }
    }

    /** The other live instance holding the slot {@code processId} names; null for none. */
    static ProxyMember issuer(Membership membership, int processId) {
        int slot = IssuedProcessIds.slotOf(processId);
        if (slot == IssuedProcessIds.NO_SLOT || !membership.coordinated()) {
            return null;
        }
        for (ProxyMember member : membership.members()) {
            if (member.slot() == slot) {
                // Our own slot: a key we do not hold (its session ended); never sent to ourselves again.
                return membership.isSelf(member) ? null : member;
            }
        }
        return null;
    }

    private void send(ProxyMember issuer, int processId, int secretKey) {
        long t0 = System.nanoTime();
        try (Socket socket = new Socket()) {
            HostPort target = HostPort.parse(issuer.advertised());
            int timeout = (int) TIMEOUT.toMillis();
            socket.setSoTimeout(timeout);
            socket.connect(new InetSocketAddress(target.host(), target.port()), timeout);
            OutputStream out = socket.getOutputStream();
            out.write(cancelRequest(processId, secretKey));
            out.flush();
            metrics.cancelForwarded(ForwardedCancel.SENT);
            log.debug("cancel request for process id {} forwarded to {} at {} in {} µs", processId, issuer.id(),
                    issuer.advertised(), (System.nanoTime() - t0) / 1000);
        } catch (IOException | ConfigException e) {
            metrics.cancelForwarded(ForwardedCancel.FAILED);
            log.warn("could not forward a cancel request to {} at {}: {}", issuer.id(), issuer.advertised(),
                    e.toString());
        }
    }

    /** Length 16, the cancel request code, the process id and the secret, as libpq sends it. */
    static byte[] cancelRequest(int processId, int secretKey) {
        return ByteBuffer.allocate(16).putInt(16).putInt(CancelRequest.CODE).putInt(processId).putInt(secretKey)
                .array();
    }

    /** Stops the threads; forwards under way finish within their timeout. */
    public void close() {
        threads.shutdown();
    }
}
