package io.pgrelay.core.coordination;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The host the other instances reach this one's client listener at, when
 * {@code coordination.advertise-host} does not say: the listen host itself, unless that is a
 * wildcard ({@code 0.0.0.0}, {@code ::}), which no one can connect to from elsewhere. Then this
 * machine's first non-loopback address (IPv4 before IPv6, link-local last): in a container or a VM
 * that is the address its peers route to, where the host name often resolves to a loopback one.
 */
public final class AdvertisedHost {
    private AdvertisedHost() {
    }

    /** Where to advertise a listener bound to {@code listenHost}; looks at the interfaces only for a wildcard. */
    public static String of(String configured, String listenHost) {
        if (configured != null) {
            return configured;
        }
        return isWildcard(listenHost) ? firstNonLoopback() : listenHost;
    }

    /**
     * Where the other instances reach a listener bound to {@code bound} (the admin API, which a
     * follower calls to have the leader carry out an operation): a wildcard is replaced as for the
     * client listener; a specific address stays, since the listener answers only there.
     */
    public static String reachable(String configured, String bound) {
        return isWildcard(bound) ? of(configured, bound) : bound;
    }

    static boolean isWildcard(String host) {
        String bare = host.replace("[", "").replace("]", "");
        if (bare.isEmpty() || bare.equals("*")) {
            return true;
        }
        try {
            // only literals: a name is never resolved here (that could block on DNS)
            return (bare.indexOf(':') >= 0 || Character.isDigit(bare.charAt(0)))
                    && InetAddress.getByName(bare).isAnyLocalAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    private static String firstNonLoopback() {
        List<InetAddress> candidates = new ArrayList<>();
        try {
            for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                if (nic.isUp() && !nic.isLoopback()) {
                    candidates.addAll(Collections.list(nic.getInetAddresses()));
                }
            }
        } catch (SocketException e) {
            // no interface list: fall back below
        }
        candidates.removeIf(InetAddress::isLoopbackAddress);
        candidates.sort((a, b) -> Integer.compare(rank(a), rank(b)));
        if (!candidates.isEmpty()) {
            return candidates.get(0).getHostAddress().replaceAll("%.*$", "");
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "127.0.0.1";
        }
    }

    private static int rank(InetAddress address) {
        if (address instanceof Inet4Address) {
            return address.isLinkLocalAddress() ? 2 : 0;
        }
        return address instanceof Inet6Address && !address.isLinkLocalAddress() ? 1 : 3;
    }
}
