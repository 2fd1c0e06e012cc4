package io.pgrelay.protocol.codec;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.UnpooledHeapByteBuf;
import io.pgrelay.protocol.PgProtocolException;
import io.pgrelay.protocol.SqlState;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.Message;
import io.pgrelay.protocol.message.Messages;
import io.pgrelay.protocol.message.backend.CommandComplete;
import io.pgrelay.protocol.message.backend.DataRow;
import io.pgrelay.protocol.message.backend.EmptyQueryResponse;
import io.pgrelay.protocol.message.backend.ErrorResponse;
import io.pgrelay.protocol.message.backend.NoticeResponse;
import io.pgrelay.protocol.message.backend.ParameterStatus;
import io.pgrelay.protocol.message.backend.ParseComplete;
import io.pgrelay.protocol.message.backend.ReadyForQuery;
import io.pgrelay.protocol.message.backend.RowDescription;
import io.pgrelay.testing.Bytes;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static io.pgrelay.protocol.codec.FrameScanner.FORWARD;
import static io.pgrelay.protocol.codec.FrameScanner.NOTIFY_AFTER;
import static io.pgrelay.testing.Bytes.i32;
import static io.pgrelay.testing.Bytes.of;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FrameScannerTest {
    private static final int MAX = 2 << 20;

    /** Frames of a backend stream, with what the test handler does to each. */
    private record Frame(byte[] bytes, boolean forwarded, boolean inspected, boolean notifies) {
        byte type() {
            return bytes[0];
        }
    }

    private static final List<Frame> STREAM = List.of(
            pass(RowDescription.ofText("a", "b")),
            pass(DataRow.ofText("1", "x")),
            pass(DataRow.ofText("2", null)),
            new Frame(encode(NoticeResponse.notice("00000", "dropped")), false, false, false),
            pass(DataRow.ofText("3", "zzz")),
            pass(new CommandComplete("SELECT 3")),
            pass(ParseComplete.INSTANCE),
            new Frame(encode(EmptyQueryResponse.INSTANCE), true, true, false),
            new Frame(encode(ReadyForQuery.IDLE), true, true, true),
            new Frame(encode(new ParameterStatus("TimeZone", "UTC")), false, true, false),
            new Frame(encode(ErrorResponse.fatal("57P01", "terminating connection")), true, true, true),
            pass(DataRow.ofText("after")));

    /** Inspects I, Z, S, E; drops N; the action of an inspected frame follows {@link #STREAM}. */
    private static class Recorder implements FrameScanner.Handler {
        final Map<Byte, Frame> inspectedByType = new java.util.HashMap<>();
        final ByteArrayOutputStream forwarded = new ByteArrayOutputStream();
        final List<byte[]> inspected = new ArrayList<>();
        final List<String> notified = new ArrayList<>();
        int forwardCalls;

        Recorder(List<Frame> stream) {
            for (Frame frame : stream) {
                if (frame.inspected()) {
                    inspectedByType.put(frame.type(), frame);
                }
            }
        }

        @Override
        public int onFrameStart(byte type, int frameLength) {
            if (inspectedByType.containsKey(type)) {
                return FrameScanner.INSPECT;
            }
            return type != NoticeResponse.TYPE ? FORWARD : 0;
        }

        @Override
        public int onFrame(byte type, ByteBuf frame) {
            assertThat(Wire.frameType(frame)).isEqualTo(type);
            inspected.add(ByteBufUtil.getBytes(frame));
            Frame expected = inspectedByType.get(type);
            return (expected.forwarded() ? FORWARD : 0) | (expected.notifies() ? NOTIFY_AFTER : 0);
        }

        @Override
        public void afterFrame(byte type) {
            notified.add((char) type + "@" + forwarded.size());
        }

        @Override
        public void forward(ByteBuf bytes) {
            forwardCalls++;
            try {
                forwarded.writeBytes(ByteBufUtil.getBytes(bytes));
            } finally {
                bytes.release();
            }
        }
    }

    /** Counts what the scanner allocates: only split headers and split inspected frames may be copied. */
    private static final class CountingAllocator extends AbstractByteBufAllocator {
        long allocated;
        int largest;

        CountingAllocator() {
            super(false);
        }

        @Override
        protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
            allocated += initialCapacity;
            largest = Math.max(largest, initialCapacity);
            return new UnpooledHeapByteBuf(this, initialCapacity, maxCapacity);
        }

        @Override
        protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
            return newHeapBuffer(initialCapacity, maxCapacity);
        }

        @Override
        public boolean isDirectBufferPooled() {
            return false;
        }
    }

    private final CountingAllocator alloc = new CountingAllocator();

    @Test
    void wholeStreamInOneChunkIsForwardedAsSlicesOfIt() {
        byte[] input = input(STREAM);
        Recorder recorder = scan(STREAM, input.length, input);
        assertScanned(STREAM, recorder);
        assertThat(alloc.allocated).as("bytes copied").isZero();
        // runs of consecutive forwarded frames leave together: [T D D] N [D C 1 I Z] S [E] [D]
        assertThat(recorder.forwardCalls).isEqualTo(4);
    }

    /** The usual read, whole replies all forwarded: the chunk itself goes on, no slice object. */
    @Test
    void aChunkOfWholeForwardedRepliesIsPassedOnItself() {
        List<Frame> reply = List.of(pass(RowDescription.ofText("a")), pass(DataRow.ofText("1")),
                pass(new CommandComplete("SELECT 1")), new Frame(encode(ReadyForQuery.IDLE), true, true, true));
        byte[] input = input(reply);
        ByteBuf chunk = ByteBufAllocator.DEFAULT.buffer(input.length).writeBytes(input);
        List<ByteBuf> passedOn = new ArrayList<>();
        Recorder recorder = new Recorder(reply) {
            @Override
            public void forward(ByteBuf bytes) {
                passedOn.add(bytes);
                super.forward(bytes);
            }
        };
        try {
            new FrameScanner(recorder, alloc, MAX).scan(chunk);
            assertThat(passedOn).hasSize(1);
            assertThat(passedOn.get(0)).isSameAs(chunk);
            assertScanned(reply, recorder);
            assertThat(chunk.refCnt()).isEqualTo(1);
        } finally {
            chunk.release();
        }
    }

    @Test
    void oneByteAtATime() {
        assertScanned(STREAM, scan(STREAM, 1, input(STREAM)));
    }

    @Test
    void everyChunkSize() {
        byte[] input = input(STREAM);
        for (int size = 2; size < input.length; size++) {
            assertScanned(STREAM, scan(STREAM, size, input));
        }
    }

    @Test
    void splitInTwoAtEveryPosition() {
        byte[] input = input(STREAM);
        for (int split = 0; split <= input.length; split++) {
            Recorder recorder = new Recorder(STREAM);
            FrameScanner scanner = new FrameScanner(recorder, alloc, MAX);
            feed(scanner, Bytes.prefix(input, split));
            feed(scanner, Bytes.from(input, split));
            assertThat(scanner.inFrame()).isFalse();
            try {
                assertScanned(STREAM, recorder);
            } catch (AssertionError e) {
                throw new AssertionError("split at " + split + ": " + e.getMessage(), e);
            }
        }
    }

    @Test
    void largePassThroughFrameIsForwardedIncrementallyWithoutCopy() {
        byte[] big = new byte[1 << 20];
        Arrays.fill(big, (byte) 'x');
        List<Frame> stream = List.of(
                pass(RowDescription.ofText("big")),
                pass(new DataRow(List.of(big))),
                pass(new CommandComplete("SELECT 1")),
                new Frame(encode(ReadyForQuery.IDLE), true, true, true));
        byte[] input = input(stream);
        Recorder recorder = new Recorder(stream);
        FrameScanner scanner = new FrameScanner(recorder, alloc, MAX);
        int bigEnd = stream.get(0).bytes().length + stream.get(1).bytes().length;
        boolean forwardedBeforeComplete = false;
        for (int offset = 0; offset < input.length; offset += 8192) {
            int end = Math.min(input.length, offset + 8192);
            feed(scanner, Arrays.copyOfRange(input, offset, end));
            assertThat(recorder.forwarded.size()).as("forwarded after %d bytes", end).isGreaterThanOrEqualTo(end - 4);
            if (end < bigEnd && recorder.forwarded.size() > stream.get(0).bytes().length) {
                forwardedBeforeComplete = true;
            }
        }
        assertThat(forwardedBeforeComplete).isTrue();
        assertScanned(stream, recorder);
        assertThat(alloc.largest).as("largest copy").isLessThanOrEqualTo(Wire.HEADER_LENGTH);
    }

    @Test
    void inspectedFrameSplitAcrossManyChunksIsSeenWhole() {
        String longMessage = "m".repeat(50_000);
        List<Frame> stream = List.of(
                new Frame(encode(ErrorResponse.error("42601", longMessage)), true, true, true),
                new Frame(encode(ReadyForQuery.IN_TRANSACTION), true, true, true));
        assertScanned(stream, scan(stream, 1000, input(stream)));
    }

    @Test
    void oversizeFrameFailsAtItsHeader() {
        FrameScanner scanner = new FrameScanner(new Recorder(STREAM), alloc, 1024);
        ByteBuf header = alloc.buffer().writeBytes(of('D', i32(1024)));
        try {
            assertThatThrownBy(() -> scanner.scan(header))
                    .isInstanceOfSatisfying(PgProtocolException.class,
                            e -> assertThat(e.sqlState()).isEqualTo(SqlState.PROTOCOL_VIOLATION))
                    .hasMessageContaining("more than the limit of 1024 bytes");
        } finally {
            header.release();
        }
    }

    @Test
    void lengthBelowFourFailsEvenWhenTheHeaderIsSplit() {
        FrameScanner scanner = new FrameScanner(new Recorder(STREAM), alloc, MAX);
        feed(scanner, of('D', 0, 0));
        assertThatThrownBy(() -> feed(scanner, of(0, 3)))
                .isInstanceOf(PgProtocolException.class)
                .hasMessageContaining("invalid message length 3");
    }

    @Test
    void releaseFreesAPartialInspectedFrame() {
        Recorder recorder = new Recorder(STREAM);
        FrameScanner scanner = new FrameScanner(recorder, alloc, MAX);
        feed(scanner, Bytes.prefix(encode(ErrorResponse.error("42601", "syntax error")), 10));
        assertThat(scanner.inFrame()).isTrue();
        scanner.release();
        assertThat(scanner.inFrame()).isFalse();
        assertThat(recorder.inspected).isEmpty();
    }

    private Recorder scan(List<Frame> stream, int chunkSize, byte[] input) {
        Recorder recorder = new Recorder(stream);
        FrameScanner scanner = new FrameScanner(recorder, alloc, MAX);
        for (int offset = 0; offset < input.length; offset += chunkSize) {
            feed(scanner, Arrays.copyOfRange(input, offset, Math.min(input.length, offset + chunkSize)));
        }
        assertThat(scanner.inFrame()).isFalse();
        return recorder;
    }

    private void feed(FrameScanner scanner, byte[] bytes) {
        ByteBuf chunk = ByteBufAllocator.DEFAULT.buffer(bytes.length).writeBytes(bytes);
        try {
            scanner.scan(chunk);
            assertThat(chunk.refCnt()).as("the scanner keeps no reference to a chunk").isEqualTo(1);
        } finally {
            chunk.release();
        }
    }

    /**
     * Forwarded bytes are the input minus the frames not forwarded; inspected frames were seen
     * whole and in order; each notification came once its frame and everything before were out.
     */
    private static void assertScanned(List<Frame> stream, Recorder recorder) {
        ByteArrayOutputStream expectedForwarded = new ByteArrayOutputStream();
        List<byte[]> expectedInspected = new ArrayList<>();
        List<String> expectedNotified = new ArrayList<>();
        for (Frame frame : stream) {
            if (frame.forwarded()) {
                expectedForwarded.writeBytes(frame.bytes());
            }
            if (frame.inspected()) {
                expectedInspected.add(frame.bytes());
            }
            if (frame.notifies()) {
                expectedNotified.add((char) frame.type() + "@" + expectedForwarded.size());
            }
        }
        assertThat(recorder.forwarded.toByteArray()).isEqualTo(expectedForwarded.toByteArray());
        assertThat(recorder.inspected).containsExactlyElementsOf(expectedInspected);
        assertThat(recorder.notified).containsExactlyElementsOf(expectedNotified);
    }

    private static Frame pass(Message message) {
        return new Frame(encode(message), true, false, false);
    }

    private static byte[] input(List<Frame> stream) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        stream.forEach(frame -> out.writeBytes(frame.bytes()));
        return out.toByteArray();
    }

    private static byte[] encode(Message message) {
        ByteBuf buf = Messages.encode(ByteBufAllocator.DEFAULT, message);
        try {
            return ByteBufUtil.getBytes(buf);
        } finally {
            buf.release();
        }
    }
}
