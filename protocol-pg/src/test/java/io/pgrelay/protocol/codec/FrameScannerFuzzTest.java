package io.pgrelay.protocol.codec;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.pgrelay.protocol.PgProtocolException;
import io.pgrelay.testing.FuzzStreams;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static io.pgrelay.protocol.codec.FrameScanner.FORWARD;
import static io.pgrelay.protocol.codec.FrameScanner.INSPECT;
import static io.pgrelay.protocol.codec.FrameScanner.NOTIFY_AFTER;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fuzzes {@link FrameScanner} against a model: the stream is cut into frames by a plain
 * reference parser, the handler's decisions are a function of the frame's index and type, and
 * what the scanner forwards, shows and notifies must be what the model says, whatever the
 * chunking. Input: byte 0 the chunk size, byte 1 the decision seed, then the stream (the seeds
 * are captured psql, pgjdbc and pgbench sessions, client and server side).
 */
public class FrameScannerFuzzTest {
    private static final int MAX_MESSAGE_SIZE = 16 * 1024;
    private static final int[] ON_START = {FORWARD, 0, FORWARD | NOTIFY_AFTER, NOTIFY_AFTER, INSPECT, INSPECT | FORWARD};
    private static final int[] ON_FRAME = {FORWARD, 0, FORWARD | NOTIFY_AFTER, NOTIFY_AFTER};

    /** A frame as the reference parser sees it; {@code end} may lie past the stream for the last one. */
    private record Frame(byte type, int start, int end) {
    }

    @FuzzTest
    void scan(byte[] input) {
        run(input);
    }

    /** One execution; also driven by {@link io.pgrelay.protocol.DecodersFuzzTest}. */
    public static void run(byte[] input) {
        int seed = input.length > 1 ? input[1] & 0xff : 0;
        byte[] stream = input.length > 2 ? Arrays.copyOfRange(input, 2, input.length) : new byte[0];
        byte[] chunking = new byte[stream.length + 1];
        chunking[0] = input.length > 0 ? input[0] : 0;
        System.arraycopy(stream, 0, chunking, 1, stream.length);

        List<Frame> frames = new ArrayList<>();
        boolean invalid = parse(stream, frames);
        Recorder recorder = new Recorder(stream, frames, seed);
        FrameScanner scanner = new FrameScanner(recorder, ByteBufAllocator.DEFAULT, MAX_MESSAGE_SIZE);
        List<ByteBuf> fed = new ArrayList<>();
        PgProtocolException failure = null;
        for (byte[] chunk : FuzzStreams.chunks(chunking)) {
            ByteBuf buf = Unpooled.wrappedBuffer(chunk); // untracked, see FuzzStreams.writeChunk
            fed.add(buf);
            try {
                scanner.scan(buf);
            } catch (PgProtocolException e) {
                FuzzStreams.assertSqlState(e);
                failure = e;
            } finally {
                buf.release();
            }
            if (failure != null) {
                break; // the connection ends here
            }
        }
        scanner.release();

        assertThat(failure != null).as("violation reported (the stream has an invalid header: %s)", invalid)
                .isEqualTo(invalid);
        byte[] expected = recorder.expectedForward(stream.length);
        if (failure == null) {
            assertThat(recorder.forwarded.toByteArray()).as("forwarded bytes").isEqualTo(expected);
            assertThat(recorder.started).as("frames started").isEqualTo(frames.size());
        } else {
            assertThat(recorder.forwarded.toByteArray()).as("forwarded bytes before the violation")
                    .isEqualTo(Arrays.copyOf(expected, recorder.forwarded.size()));
        }
        FuzzStreams.assertAllReleased(fed);
    }

    /** Cuts {@code stream} into frames as the protocol defines them; true if a header is invalid. */
    private static boolean parse(byte[] stream, List<Frame> frames) {
        int at = 0;
        while (stream.length - at >= 5) {
            long length = ((stream[at + 1] & 0xffL) << 24) | ((stream[at + 2] & 0xff) << 16)
                    | ((stream[at + 3] & 0xff) << 8) | (stream[at + 4] & 0xff);
            if (length > Integer.MAX_VALUE || length < 4 || length > MAX_MESSAGE_SIZE - 1) {
                return true;
            }
            frames.add(new Frame(stream[at], at, at + (int) length + 1));
            at += (int) length + 1;
        }
        return false;
    }

    /** The handler: decides by the model, records what the scanner does and checks it as it happens. */
    private static final class Recorder implements FrameScanner.Handler {
        private final byte[] stream;
        private final List<Frame> frames;
        private final int seed;
        final ByteArrayOutputStream forwarded = new ByteArrayOutputStream();
        int started;
        private int inspected = -1;

        Recorder(byte[] stream, List<Frame> frames, int seed) {
            this.stream = stream;
            this.frames = frames;
            this.seed = seed;
        }

        private int onStart(int index) {
            return ON_START[(seed + index * 7 + (frames.get(index).type() & 0xff)) % ON_START.length];
        }

        private int onFrame(int index) {
            return ON_FRAME[(seed / ON_START.length + index) % ON_FRAME.length];
        }

        /** What the handler decided for a whole frame: forward and notify bits. */
        private int decision(int index) {
            int start = onStart(index);
            return (start & INSPECT) != 0 ? onFrame(index) : start;
        }

        @Override
        public int onFrameStart(byte type, int frameLength) {
            assertThat(started).as("frames started").isLessThan(frames.size());
            Frame frame = frames.get(started);
            assertThat(type).as("type of frame %d", started).isEqualTo(frame.type());
            assertThat(frameLength).as("length of frame %d", started).isEqualTo(frame.end() - frame.start());
            return onStart(started++);
        }

        @Override
        public int onFrame(byte type, ByteBuf frame) {
            int index = started - 1;
            assertThat(index).as("inspected frame %d twice", index).isGreaterThan(inspected);
            inspected = index;
            assertThat(onStart(index) & INSPECT).as("frame %d shown without being asked", index).isNotZero();
            Frame expected = frames.get(index);
            assertThat(ByteBufUtil.getBytes(frame)).as("bytes of inspected frame %d", index)
                    .isEqualTo(Arrays.copyOfRange(stream, expected.start(), expected.end()));
            return onFrame(index);
        }

        @Override
        public void afterFrame(byte type) {
            // Notified after the last started frame, once it and everything before it are out.
            int index = started - 1;
            assertThat(decision(index) & NOTIFY_AFTER).as("notified after frame %d", index).isNotZero();
            assertThat(forwarded.toByteArray()).as("forwarded before the notification after frame %d", index)
                    .isEqualTo(expectedForward(frames.get(index).end()));
        }

        @Override
        public void forward(ByteBuf bytes) {
            try {
                assertThat(bytes.refCnt()).isPositive();
                forwarded.writeBytes(ByteBufUtil.getBytes(bytes));
            } finally {
                bytes.release();
            }
        }

        /** The bytes the model forwards from the first {@code upTo} bytes of the stream. */
        byte[] expectedForward(int upTo) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (int i = 0; i < frames.size() && frames.get(i).start() < upTo; i++) {
                Frame frame = frames.get(i);
                int end = Math.min(frame.end(), upTo);
                boolean whole = end == frame.end();
                // A frame still arriving streams through only when forwarded without inspection.
                boolean forward = whole ? (decision(i) & FORWARD) != 0 : onStart(i) == FORWARD
                        || onStart(i) == (FORWARD | NOTIFY_AFTER);
                if (forward) {
                    out.write(stream, frame.start(), end - frame.start());
                }
            }
            return out.toByteArray();
        }
    }
}
