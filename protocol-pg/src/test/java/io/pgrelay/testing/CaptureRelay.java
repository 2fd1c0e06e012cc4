package io.pgrelay.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Records the client-to-server bytes of real sessions, for the fuzz tests' seed corpus: listens
 * on a loopback port, relays every connection to a PostgreSQL server unchanged and writes what
 * the client sent to {@code DIR/PREFIX-N.bin} (what the server sent to {@code DIR/PREFIX-N.server.bin}),
 * one pair of files per connection. Run it in front of a
 * server without TLS (the client's SSLRequest is then answered 'N' by the server itself):
 * <pre>
 * java -cp protocol-pg/target/test-classes io.pgrelay.testing.CaptureRelay 15499 127.0.0.1 5432 DIR psql
 * psql "host=127.0.0.1 port=15499 ..."
 * </pre>
 */
public final class CaptureRelay {
    private CaptureRelay() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 5) {
            System.err.println("usage: CaptureRelay LISTEN_PORT SERVER_HOST SERVER_PORT DIR PREFIX");
            System.exit(2);
        }
        int listenPort = Integer.parseInt(args[0]);
        String serverHost = args[1];
        int serverPort = Integer.parseInt(args[2]);
        Path dir = Files.createDirectories(Path.of(args[3]));
        String prefix = args[4];
        AtomicInteger connections = new AtomicInteger();
        try (ServerSocket server = new ServerSocket(listenPort, 50, InetAddress.getLoopbackAddress())) {
            while (true) {
                Socket client = server.accept();
                Socket backend = new Socket(serverHost, serverPort);
                client.setTcpNoDelay(true);
                backend.setTcpNoDelay(true);
                String name = prefix + "-" + connections.incrementAndGet();
                Path sent = dir.resolve(name + ".bin");
                Path received = dir.resolve(name + ".server.bin");
                Thread up = new Thread(() -> pump(client, backend, sent), "up-" + name);
                Thread down = new Thread(() -> pump(backend, client, received), "down-" + name);
                up.start();
                down.start();
            }
        }
    }

    /** Copies {@code from} to {@code to} until either side ends, recording the bytes. */
    private static void pump(Socket from, Socket to, Path record) {
        byte[] buffer = new byte[65536];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream();
             OutputStream file = Files.newOutputStream(record)) {
            int n;
            while ((n = in.read(buffer)) > 0) {
                file.write(buffer, 0, n);
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            // The peer went away: the session is over either way.
        } finally {
            try {
                from.close();
                to.close();
            } catch (IOException ignored) {
                // Closing a socket that already failed.
            }
        }
    }
}
