package io.pgrelay.testkit;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Ports on 127.0.0.1 for a process that binds them later (PostgreSQL, etcd, a pgrelay child).
 *
 * <p>A port found by binding port 0 comes from the kernel's ephemeral range, which outgoing
 * connections draw from too: after a long test run has filled half of that range with TIME_WAIT,
 * a client's connect can take the port between our pick and the child's bind, and the child
 * fails with "address already in use". So ports come from below the ephemeral range, where no
 * connect or bind(0) ever lands, and no port is handed out twice by this JVM.
 */
public final class FreePorts {
    private static final Path EPHEMERAL_RANGE = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
    private static final int LOWEST = 10_000;
    private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

    private FreePorts() {
    }

    /** A port nothing listens on, not handed out before by this JVM. */
    public static int next() {
        int below = ephemeralLow();
        if (below - LOWEST < 1_000) {
            return fromEphemeralRange();
        }
        for (int attempt = 0; attempt < 1_000; attempt++) {
            int port = ThreadLocalRandom.current().nextInt(LOWEST, below);
            if (HANDED_OUT.add(port)) {
                if (bindable(port)) {
                    return port;
                }
            }
        }
        throw new LocalClusterException("no free port on " + OsSupport.LOOPBACK + " between " + LOWEST + " and "
                + below);
    }

    /** When the ephemeral range leaves no room below it: bind port 0, as a last resort. */
    private static int fromEphemeralRange() {
        for (int attempt = 0; attempt < 100; attempt++) {
            try (ServerSocket socket = new ServerSocket()) {
                socket.bind(new InetSocketAddress(OsSupport.LOOPBACK, 0), 1);
                if (HANDED_OUT.add(socket.getLocalPort())) {
                    return socket.getLocalPort();
                }
            } catch (IOException e) {
                throw new LocalClusterException("cannot bind an ephemeral port on " + OsSupport.LOOPBACK, e);
            }
        }
        throw new LocalClusterException("cannot find a free port on " + OsSupport.LOOPBACK);
    }

    private static boolean bindable(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            // without SO_REUSEADDR: a port with connections in TIME_WAIT is refused here too
            socket.setReuseAddress(false);
            socket.bind(new InetSocketAddress(OsSupport.LOOPBACK, port), 1);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The first port of the kernel's ephemeral range (32768 when it cannot be read). */
    static int ephemeralLow() {
        try {
            String[] range = Files.readString(EPHEMERAL_RANGE).trim().split("\\s+");
            return Integer.parseInt(range[0]);
        } catch (IOException | RuntimeException e) {
            return 32_768;
        }
    }
}
