package io.pgrelay.core.coordination;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Instant;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One running pgrelay instance as it registers itself: what operators and the other instances need
 * to reach it. {@code address} and {@code admin} are the configured listen hosts with the bound ports
 * ({@code 0.0.0.0:6432} for a wildcard listener); {@code advertised} is where the other instances
 * reach the client listener ({@code coordination.advertise-host} and the bound port).
 *
 * @param id         chosen at start, see {@link #newId()}
 * @param address    client listener (PostgreSQL protocol), {@code host:port}
 * @param admin      admin listener (REST API, /metrics), {@code host:port}
 * @param version    the pgrelay version
 * @param startedAt  when the instance started
 * @param advertised client listener as the other instances reach it (forwarded cancels), {@code host:port}
 * @param slot       the slot the instance holds, named by the cancel keys it issues
 *                   ({@link IssuedProcessIds}); {@code NO_SLOT} (-1) for none
 */
public record ProxyMember(String id, String address, String admin, String version, Instant startedAt,
                          String advertised, int slot) {

    /** Advertised at its listen address, without a slot (the slot comes with the registration). */
    public ProxyMember(String id, String address, String admin, String version, Instant startedAt) {
        this(id, address, admin, version, startedAt, address, IssuedProcessIds.NO_SLOT);
    }

    /** This member as registered holding {@code slot}. */
    public ProxyMember withSlot(int slot) {
        return new ProxyMember(id, address, admin, version, startedAt, advertised, slot);
    }

    /** This member reached by the other instances at {@code advertised}. */
    public ProxyMember advertisedAt(String advertised) {
        return new ProxyMember(id, address, admin, version, startedAt, advertised, slot);
    }

    public boolean hasSlot() {
        return slot != IssuedProcessIds.NO_SLOT;
    }

    /**
     * A fresh id for each start: the host name and 8 random hex digits ({@code db-proxy-1-3f9a61c2}).
     * Readable in listings, and never reused, so a restarted instance is a new member and nothing
     * it left behind (a key whose lease has not yet expired) is mistaken for it.
     */
    public static String newId() {
        return hostName() + "-" + String.format(Locale.ROOT, "%08x", ThreadLocalRandom.current().nextInt());
    }

    private static String hostName() {
        String name = System.getenv("HOSTNAME");
        if (name == null || name.isBlank()) {
            try {
                name = InetAddress.getLocalHost().getHostName();
            } catch (UnknownHostException e) {
                name = "pgrelay";
            }
        }
        // The id is the last segment of an etcd key and a console value: keep it to safe characters.
        String safe = name.strip().replaceAll("[^A-Za-z0-9._-]", "_");
        return safe.isEmpty() ? "pgrelay" : safe;
    }
}
