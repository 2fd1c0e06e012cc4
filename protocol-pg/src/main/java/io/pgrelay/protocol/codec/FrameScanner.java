package io.pgrelay.protocol.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.pgrelay.protocol.Wire;

/**
 * Walks a stream of typed messages chunk by chunk and forwards it without copying or
 * re-framing: consecutive forwarded frames leave as one retained slice of the input
 * chunk, usually the whole chunk. The {@link Handler} sees every frame's type and length
 * when the frame starts; only the frames it asks to inspect are seen whole (a copy is made
 * only when such a frame straddles two chunks). Every other frame streams through as it
 * arrives, however large, so a huge row never has to fit in memory.
 *
 * <p>Not thread-safe: one scanner per connection, driven from its event loop.
 */
public final class FrameScanner {
    /** Pass the frame on (from {@link Handler#onFrameStart} or {@link Handler#onFrame}). */
    public static final int FORWARD = 1;
    /** Call {@link Handler#afterFrame} once the frame and everything before it are out. */
    public static final int NOTIFY_AFTER = 2;
    /** {@link Handler#onFrameStart} only: deliver the whole frame to {@link Handler#onFrame}, which decides. */
    public static final int INSPECT = 4;

    /** What to do with the frames of a stream. */
    public interface Handler {
        /** Every frame's start: a combination of {@link #FORWARD}, {@link #NOTIFY_AFTER}, {@link #INSPECT}. */
        int onFrameStart(byte type, int frameLength);

        /**
         * An inspected frame, header included, readable only during the call.
         * Returns a combination of {@link #FORWARD} and {@link #NOTIFY_AFTER}.
         */
        int onFrame(byte type, ByteBuf frame);

        /** Runs after a frame that asked for {@link #NOTIFY_AFTER}. */
        void afterFrame(byte type);

        /** Bytes to pass on, in stream order. The handler owns (must release) them. */
        void forward(ByteBuf bytes);
    }

    private enum Mode { PASS, DROP, INSPECT }

    /** flushRun passed on the whole chunk. */
    private static final int WHOLE = -2;

    private final Handler handler;
    private final ByteBufAllocator alloc;
    private final int maxMessageSize;

    private final byte[] header = new byte[Wire.HEADER_LENGTH];
    private int headerFill;
    private Mode mode = Mode.PASS;
    private boolean notifyAfter;
    private byte type;
    private int remaining;
    private ByteBuf partial;

    /** Reader index of the chunk being scanned when its scan began. */
    private int scanStart;

    public FrameScanner(Handler handler, ByteBufAllocator alloc, int maxMessageSize) {
        this.handler = handler;
        this.alloc = alloc;
        this.maxMessageSize = maxMessageSize;
    }

    /**
     * Scans one chunk. Does not release {@code in}; forwarded parts are retained slices, or
     * {@code in} itself, retained, when all of it is forwarded: after that, use {@code in} only to
     * release it.
     */
    public void scan(ByteBuf in) {
        scanStart = in.readerIndex();
        int runStart = -1;
        while (in.isReadable()) {
            int index = in.readerIndex();
            if (remaining > 0) {
                int n = Math.min(remaining, in.readableBytes());
                switch (mode) {
                    case PASS -> {
                        if (runStart < 0) {
                            runStart = index;
                        }
                        in.skipBytes(n);
                    }
                    case DROP -> {
                        runStart = flushRun(in, runStart, index);
                        in.skipBytes(n);
                    }
                    case INSPECT -> partial.writeBytes(in, n);
                }
                remaining -= n;
                if (remaining == 0) {
                    if (mode == Mode.INSPECT) {
                        completePartial();
                    } else if (notifyAfter) {
                        runStart = flushRun(in, runStart, in.readerIndex());
                        notifyAfter = false;
                        handler.afterFrame(type);
                        if (runStart == WHOLE) {
                            return;
                        }
                    }
                }
                continue;
            }
            if (headerFill > 0 || in.readableBytes() < Wire.HEADER_LENGTH) {
                // A header split across chunks: hold its bytes until it is whole.
                runStart = flushRun(in, runStart, index);
                int n = Math.min(Wire.HEADER_LENGTH - headerFill, in.readableBytes());
                in.readBytes(header, headerFill, n);
                headerFill += n;
                if (headerFill < Wire.HEADER_LENGTH) {
                    break;
                }
                headerFill = 0;
                startSplitFrame();
                continue;
            }
            byte frameType = in.getByte(index);
            int length = in.getInt(index + 1);
            FrameDecoder.checkLength(frameType, length, maxMessageSize);
            int frameLength = length + 1;
            int action = handler.onFrameStart(frameType, frameLength);
            if ((action & INSPECT) != 0) {
                if (in.readableBytes() >= frameLength) {
                    action = inspect(in, frameType, index, frameLength);
                    if ((action & FORWARD) != 0) {
                        if (runStart < 0) {
                            runStart = index;
                        }
                    } else {
                        runStart = flushRun(in, runStart, index);
                    }
                    in.readerIndex(index + frameLength);
                    if ((action & NOTIFY_AFTER) != 0) {
                        runStart = flushRun(in, runStart, in.readerIndex());
                        handler.afterFrame(frameType);
                        if (runStart == WHOLE) {
                            return;
                        }
                    }
                } else {
                    runStart = flushRun(in, runStart, index);
                    type = frameType;
                    mode = Mode.INSPECT;
                    partial = alloc.buffer(frameLength);
                    remaining = frameLength - in.readableBytes();
                    partial.writeBytes(in);
                }
                continue;
            }
            type = frameType;
            notifyAfter = (action & NOTIFY_AFTER) != 0;
            if ((action & FORWARD) != 0) {
                mode = Mode.PASS;
                if (runStart < 0) {
                    runStart = index;
                }
            } else {
                mode = Mode.DROP;
                runStart = flushRun(in, runStart, index);
            }
            int n = Math.min(frameLength, in.readableBytes());
            in.skipBytes(n);
            remaining = frameLength - n;
            if (remaining == 0 && notifyAfter) {
                runStart = flushRun(in, runStart, in.readerIndex());
                notifyAfter = false;
                handler.afterFrame(frameType);
                if (runStart == WHOLE) {
                    return;
                }
            }
        }
        flushRun(in, runStart, in.readerIndex());
    }

    /** Whether the stream stopped in the middle of a frame. */
    public boolean inFrame() {
        return remaining > 0 || headerFill > 0;
    }

    /** Frees a partially received inspected frame; call when the connection goes away. */
    public void release() {
        if (partial != null) {
            partial.release();
            partial = null;
        }
        remaining = 0;
        headerFill = 0;
    }

    private void startSplitFrame() {
        byte frameType = header[0];
        int length = ((header[1] & 0xff) << 24) | ((header[2] & 0xff) << 16) | ((header[3] & 0xff) << 8) | (header[4] & 0xff);
        FrameDecoder.checkLength(frameType, length, maxMessageSize);
        type = frameType;
        remaining = length - 4;
        int action = handler.onFrameStart(frameType, length + 1);
        if ((action & INSPECT) != 0) {
            mode = Mode.INSPECT;
            partial = alloc.buffer(length + 1);
            partial.writeBytes(header);
            if (remaining == 0) {
                completePartial();
            }
            return;
        }
        notifyAfter = (action & NOTIFY_AFTER) != 0;
        if ((action & FORWARD) != 0) {
            mode = Mode.PASS;
            handler.forward(alloc.buffer(Wire.HEADER_LENGTH).writeBytes(header));
        } else {
            mode = Mode.DROP;
        }
        if (remaining == 0 && notifyAfter) {
            notifyAfter = false;
            handler.afterFrame(frameType);
        }
    }

    /**
     * Shows the whole frame at {@code index} to the handler as {@code in} itself, bounded to the
     * frame for the call (a slice would be an object per inspected frame: a ReadyForQuery in
     * every transaction).
     */
    private int inspect(ByteBuf in, byte frameType, int index, int frameLength) {
        int limit = in.writerIndex();
        in.writerIndex(index + frameLength);
        try {
            return handler.onFrame(frameType, in);
        } finally {
            in.writerIndex(limit);
            in.readerIndex(index);
        }
    }

    private void completePartial() {
        ByteBuf frame = partial;
        partial = null;
        mode = Mode.PASS;
        int action;
        try {
            action = handler.onFrame(type, frame);
        } catch (RuntimeException e) {
            frame.release();
            throw e;
        }
        if ((action & FORWARD) != 0) {
            handler.forward(frame);
        } else {
            frame.release();
        }
        if ((action & NOTIFY_AFTER) != 0) {
            handler.afterFrame(type);
        }
    }

    /**
     * Passes on {@code in[runStart, end)} if a run is open; returns the closed-run marker, or
     * {@link #WHOLE} when the run was the whole chunk: then {@code in} itself is passed on
     * (the usual case, a read holding whole replies: no slice object per read) and the scan
     * must not touch {@code in} again, since its new holder moves its reader index.
     */
    private int flushRun(ByteBuf in, int runStart, int end) {
        if (runStart >= 0 && end > runStart) {
            if (runStart == scanStart && end == in.writerIndex()) {
                in.readerIndex(runStart);
                handler.forward(in.retain());
                return WHOLE;
            }
            handler.forward(in.retainedSlice(runStart, end - runStart));
        }
        return -1;
    }
}
