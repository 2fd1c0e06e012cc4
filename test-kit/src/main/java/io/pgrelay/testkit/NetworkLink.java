package io.pgrelay.testkit;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One network path, from one process to a server, that a test can break: a TCP forwarder on a
 * loopback port. Point one pgrelay instance's node at {@link #port()} instead of the server's, and
 * {@link #cut()} partitions that instance alone from the server while every other process still
 * reaches it.
 *
 * <p>A cut behaves as a firewall that drops packets, not one that rejects them: connections that
 * were open stop carrying bytes in both directions and new ones are accepted but never answered,
 * so the far side sees silence and must time out, as it would on a real partition.
 * {@link #restore()} ends the stalled connections (their peers see them close) and forwards again.
 */
public final class NetworkLink implements AutoCloseable {
    private final InetSocketAddress target;
    private final ServerSocket listener;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private volatile boolean cut;
    private volatile boolean closed;

    private NetworkLink(InetSocketAddress target) throws IOException {
        this.target = target;
        this.listener = new ServerSocket(0, 50, InetAddress.getByName(OsSupport.LOOPBACK));
        Thread acceptor = new Thread(this::acceptLoop, "network-link-" + listener.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** A link to {@code host:port}, forwarding until cut. */
    public static NetworkLink to(String host, int port) {
        try {
            return new NetworkLink(new InetSocketAddress(host, port));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open a loopback port for a link to " + host + ":" + port, e);
        }
    }

    /** Where the process whose path this is should connect instead of the server. */
    public int port() {
        return listener.getLocalPort();
    }

    /** Drops everything from now on: open connections fall silent, new ones are never answered. */
    public void cut() {
        cut = true;
    }

    /** Closes the connections held silent during the cut and forwards new ones again. */
    public void restore() {
        cut = false;
        sockets.forEach(NetworkLink::closeQuietly);
        sockets.clear();
    }

    public boolean isCut() {
        return cut;
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = listener.accept();
            } catch (IOException e) {
                return; // closed
            }
            sockets.add(client);
            if (cut) {
                continue; // held open and unread: the connect succeeds, nothing ever answers
            }
            Socket server = new Socket();
            try {
                server.connect(target, 5_000);
            } catch (IOException e) {
                sockets.remove(client);
                closeQuietly(client);
                continue;
            }
            sockets.add(server);
            pump(client, server);
            pump(server, client);
        }
    }

    private void pump(Socket from, Socket to) {
        Thread thread = new Thread(() -> {
            byte[] buffer = new byte[16 * 1024];
            try {
                // Not try-with-resources: closing a socket's stream closes the socket, and a cut
                // must keep the other side open and silent.
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    // Bytes that arrive during a cut are dropped; the link stays open and silent.
                    while (cut && !closed && !from.isClosed()) {
                        Thread.sleep(20);
                    }
                    if (from.isClosed() || closed) {
                        return;
                    }
                    out.write(buffer, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // one side closed
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                if (!cut) {
                    closeQuietly(from);
                    closeQuietly(to);
                }
                sockets.remove(from);
            }
        }, "network-link-pump-" + from.getPort());
        thread.setDaemon(true);
        thread.start();
    }

    private static void closeQuietly(Closeable socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // already gone
        }
    }

    @Override
    public void close() {
        closed = true;
        closeQuietly(listener);
        sockets.forEach(NetworkLink::closeQuietly);
        sockets.clear();
    }

    @Override
    public String toString() {
        return "link 127.0.0.1:" + port() + " -> " + target + (cut ? " (cut)" : "");
    }
}
