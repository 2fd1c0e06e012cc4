package io.pgrelay.core.backend;

/**
 * What the server still owes for the messages sent to it, in order: one entry per message
 * that gets a reply (Parse, Bind, Describe, Execute, Close, Sync, Query, FunctionCall),
 * each with the owner of its replies. Replies are matched to entries by type (ParseComplete
 * ends a Parse, CommandComplete/PortalSuspended/EmptyQueryResponse end an Execute,
 * ReadyForQuery ends a Sync or a Query ...), and after an error in the extended protocol
 * the entries up to the next Sync get no reply, as the server skips those messages.
 *
 * <p>A ring buffer of primitive kinds and owner references: no allocation per message.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-EXT-QUERY">Extended query</a>
 */
final class PendingResponses {
    static final byte PARSE = 1;
    static final byte BIND = 2;
    static final byte DESCRIBE_STATEMENT = 3;
    static final byte DESCRIBE_PORTAL = 4;
    static final byte EXECUTE = 5;
    static final byte CLOSE = 6;
    static final byte SYNC = 7;
    static final byte QUERY = 8;
    static final byte FUNCTION_CALL = 9;

    private byte[] kinds = new byte[16];
    private Object[] owners = new Object[16];
    private int head;
    private int size;

    /** The kind of reply-bearing message a frontend frame is, or 0 when it gets no reply of its own. */
    static byte kindOf(byte type, byte describeSubtype) {
        return switch (type) {
            case 'P' -> PARSE;
            case 'B' -> BIND;
            case 'D' -> describeSubtype == 'S' ? DESCRIBE_STATEMENT : DESCRIBE_PORTAL;
            case 'E' -> EXECUTE;
            case 'C' -> CLOSE;
            case 'S' -> SYNC;
            case 'Q' -> QUERY;
            case 'F' -> FUNCTION_CALL;
            default -> 0;
        };
    }

    static boolean isExtended(byte kind) {
        return kind >= PARSE && kind <= CLOSE;
    }

    /** Whether the entry's replies end at ReadyForQuery. */
    static boolean endsAtReady(byte kind) {
        return kind == SYNC || kind == QUERY || kind == FUNCTION_CALL;
    }

    void add(byte kind, Object owner) {
        if (size == kinds.length) {
            grow();
        }
        int tail = (head + size) & (kinds.length - 1);
        kinds[tail] = kind;
        owners[tail] = owner;
        size++;
    }

    boolean isEmpty() {
        return size == 0;
    }

    int size() {
        return size;
    }

    /** Kind of the oldest entry, 0 when empty. */
    byte headKind() {
        return size == 0 ? 0 : kinds[head];
    }

    Object headOwner() {
        return size == 0 ? null : owners[head];
    }

    /** Removes the oldest entry and returns its owner. */
    Object poll() {
        if (size == 0) {
            return null;
        }
        Object owner = owners[head];
        owners[head] = null;
        head = (head + 1) & (kinds.length - 1);
        size--;
        return owner;
    }

    /** After an error: drops the entries the server will skip (all before the next Sync). */
    void skipToSync() {
        while (size > 0 && kinds[head] != SYNC) {
            poll();
        }
    }

    /** Whether any entry belongs to this owner. */
    boolean contains(Object owner) {
        for (int i = 0; i < size; i++) {
            if (owners[(head + i) & (kinds.length - 1)] == owner) {
                return true;
            }
        }
        return false;
    }

    void forEachOwner(java.util.function.Consumer<Object> action) {
        for (int i = 0; i < size; i++) {
            action.accept(owners[(head + i) & (kinds.length - 1)]);
        }
    }

    void clear() {
        while (size > 0) {
            poll();
        }
        head = 0;
    }

    private void grow() {
        byte[] newKinds = new byte[kinds.length * 2];
        Object[] newOwners = new Object[kinds.length * 2];
        for (int i = 0; i < size; i++) {
            newKinds[i] = kinds[(head + i) & (kinds.length - 1)];
            newOwners[i] = owners[(head + i) & (kinds.length - 1)];
        }
        kinds = newKinds;
        owners = newOwners;
        head = 0;
    }
}
