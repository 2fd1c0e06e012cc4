package io.pgrelay.protocol.message.frontend;

import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;

/**
 * The statement and portal names one client uses, remembered with their bytes: a name read from
 * a frame again (a Bind of the same prepared statement in every transaction) is the String read
 * the first time, not a new one. A few names, replaced in turn; confined to one connection.
 */
public final class FrameNames {
    private static final int SIZE = 8;

    private String[] names;
    private byte[][] bytes;
    private int next;

    /** The UTF-8 text of {@code frame}'s bytes [{@code from}, {@code to}). */
    String text(ByteBuf frame, int from, int to) {
        int length = to - from;
        if (length == 0) {
            return "";
        }
        if (names == null) {
            names = new String[SIZE];
            bytes = new byte[SIZE][];
        }
        for (int i = 0; i < SIZE; i++) {
            if (bytes[i] != null && bytes[i].length == length && sameBytes(frame, from, bytes[i])) {
                return names[i];
            }
        }
        String name = frame.toString(from, length, StandardCharsets.UTF_8);
        names[next] = name;
        bytes[next] = name.getBytes(StandardCharsets.UTF_8);
        next = (next + 1) % SIZE;
        return name;
    }

    private static boolean sameBytes(ByteBuf frame, int from, byte[] name) {
        for (int i = 0; i < name.length; i++) {
            if (frame.getByte(from + i) != name[i]) {
                return false;
            }
        }
        return true;
    }
}
