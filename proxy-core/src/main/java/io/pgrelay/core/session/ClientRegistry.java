package io.pgrelay.core.session;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import io.pgrelay.protocol.message.backend.ReadyForQuery.TransactionStatus;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Every authenticated client connection, for {@code SHOW CLIENTS}. An entry is added when
 * authentication succeeds and removed when the channel closes. The session updates its
 * entry's volatile fields (backend node, transaction status) on its own event loop; readers
 * on other threads see a recent value, never a torn one, and take no lock. Each unit changes them,
 * so a value is written only when it changes, and with release (not volatile) order: on x86 that
 * is a plain store instead of a full fence per write.
 */
public final class ClientRegistry {
    private static final AttributeKey<Entry> ENTRY = AttributeKey.valueOf("pgrelay.client");

    private final ConcurrentHashMap<Long, Entry> entries = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();

    /** One client connection. */
    public static final class Entry {
        private static final VarHandle NODE;
        private static final VarHandle TRANSACTION_STATUS;
        private static final VarHandle ACTIVE;

        static {
            try {
                MethodHandles.Lookup lookup = MethodHandles.lookup();
                NODE = lookup.findVarHandle(Entry.class, "node", String.class);
                TRANSACTION_STATUS = lookup.findVarHandle(Entry.class, "transactionStatus", TransactionStatus.class);
                ACTIVE = lookup.findVarHandle(Entry.class, "active", boolean.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        private final long id;
        private final SocketAddress address;
        private final String user;
        private final String database;
        private volatile String applicationName;
        private final long connectedAtMillis;
        private final boolean console;
        private volatile String node;
        private volatile TransactionStatus transactionStatus = TransactionStatus.IDLE;
        private volatile boolean active;

        Entry(long id, SocketAddress address, String user, String database, String applicationName,
              long connectedAtMillis, boolean console) {
            this.id = id;
            this.address = address;
            this.user = user;
            this.database = database;
            this.applicationName = applicationName;
            this.connectedAtMillis = connectedAtMillis;
            this.console = console;
        }

        /** After {@code SET application_name}. */
        public void applicationName(String name) {
            this.applicationName = name;
        }

        /** The node whose backend serves the session now, null when it holds none. */
        public void node(String nodeName) {
            if (!Objects.equals((String) NODE.getAcquire(this), nodeName)) {
                NODE.setRelease(this, nodeName);
            }
        }

        /** As the last ReadyForQuery told it. */
        public void transactionStatus(TransactionStatus status) {
            if ((TransactionStatus) TRANSACTION_STATUS.getAcquire(this) != status) {
                TRANSACTION_STATUS.setRelease(this, status);
            }
        }

        /** True while a statement of the session is running (sent, not yet answered). */
        public void active(boolean running) {
            ACTIVE.setRelease(this, running);
        }

        public long id() {
            return id;
        }

        public SocketAddress address() {
            return address;
        }

        public String user() {
            return user;
        }

        public String database() {
            return database;
        }

        public String applicationName() {
            return applicationName;
        }

        public long connectedAtMillis() {
            return connectedAtMillis;
        }

        public boolean console() {
            return console;
        }

        public String node() {
            return node;
        }

        public TransactionStatus transactionStatus() {
            return transactionStatus;
        }

        public boolean isActive() {
            return active;
        }

        /** PostgreSQL's pg_stat_activity wording: active, idle, idle in transaction, … */
        public String state() {
            if (console) {
                return "console";
            }
            if (active) {
                return "active";
            }
            return switch (transactionStatus) {
                case IN_TRANSACTION -> "idle in transaction";
                case FAILED -> "idle in transaction (aborted)";
                default -> "idle";
            };
        }
    }

    /** Adds the channel's client; the entry goes away when the channel closes. */
    public Entry register(Channel channel, String user, String database, String applicationName, boolean console) {
        Entry entry = new Entry(ids.incrementAndGet(), channel.remoteAddress(), user, database, applicationName,
                System.currentTimeMillis(), console);
        entries.put(entry.id, entry);
        channel.attr(ENTRY).set(entry);
        channel.closeFuture().addListener(f -> entries.remove(entry.id));
        return entry;
    }

    /** The entry of an authenticated client channel, null before authentication. */
    public static Entry of(Channel channel) {
        return channel.attr(ENTRY).get();
    }

    /** A snapshot of all entries, oldest connection first. */
    public List<Entry> entries() {
        List<Entry> list = new ArrayList<>(entries.values());
        list.sort(Comparator.comparingLong(Entry::id));
        return list;
    }

    public int size() {
        return entries.size();
    }
}
