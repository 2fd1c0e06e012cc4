package io.pgrelay.server.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP load balancer in front of several pgrelay instances, as HAProxy in round-robin mode: the
 * n-th connection goes to instance n modulo their number, bytes copied both ways as they come. So a
 * driver's cancel, sent on a new connection, reaches another instance than its session's.
 */
public final class RoundRobinBalancer implements AutoCloseable {
    private final ServerSocket listener;
    private final List<InetSocketAddress> targets;
    private final AtomicInteger next = new AtomicInteger();

    public RoundRobinBalancer(List<InetSocketAddress> targets) {
        this.targets = List.copyOf(targets);
        try {
            listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Thread accept = new Thread(this::acceptLoop, "balancer-accept");
        accept.setDaemon(true);
        accept.start();
    }

    public int port() {
        return listener.getLocalPort();
    }

    /** Connections accepted so far (the next one goes to target {@code connections() % targets}). */
    public int connections() {
        return next.get();
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                InetSocketAddress target = targets.get(next.getAndIncrement() % targets.size());
                Socket server = new Socket();
                server.connect(target, 5000);
                pump(client, server);
                pump(server, client);
            } catch (IOException e) {
                // listener closed, or the target refused: the client sees its connection close
            }
        }
    }

    private static void pump(Socket from, Socket to) {
        Thread copy = new Thread(() -> {
            try (from; to) {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                byte[] buffer = new byte[8192];
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    out.write(buffer, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // either side went away: both are closed
            }
        }, "balancer-copy");
        copy.setDaemon(true);
        copy.start();
    }

    @Override
    public void close() throws IOException {
        listener.close();
    }
}
