package io.pgrelay.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.pgrelay.protocol.codec.FrameScanner;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * The relay's frame scanner over a backend's reply, as the proxy sees it on every read: the
 * reply to pgbench -S (RowDescription, DataRow, CommandComplete, ReadyForQuery) and a
 * 10,000-row result. Rows are forwarded as runs of bytes; ReadyForQuery is inspected, as the
 * backend connection does.
 */
@BenchmarkMode({Mode.AverageTime})
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Thread)
public class FrameScannerBenchmark {
    private ByteBuf selectReply;
    private ByteBuf tenThousandRows;
    private FrameScanner scanner;
    private long forwarded;

    private final FrameScanner.Handler handler = new FrameScanner.Handler() {
        @Override
        public int onFrameStart(byte type, int frameLength) {
            return type == 'Z' ? FrameScanner.INSPECT : FrameScanner.FORWARD;
        }

        @Override
        public int onFrame(byte type, ByteBuf frame) {
            return FrameScanner.FORWARD | FrameScanner.NOTIFY_AFTER;
        }

        @Override
        public void afterFrame(byte type) {
        }

        @Override
        public void forward(ByteBuf bytes) {
            forwarded += bytes.readableBytes();
            bytes.release();
        }
    };

    @Setup(Level.Trial)
    public void setUp() {
        scanner = new FrameScanner(handler, PooledByteBufAllocator.DEFAULT, 1 << 30);
        selectReply = PooledByteBufAllocator.DEFAULT.directBuffer();
        rowDescription(selectReply);
        dataRow(selectReply, "-2431");
        commandComplete(selectReply, "SELECT 1");
        readyForQuery(selectReply);
        tenThousandRows = PooledByteBufAllocator.DEFAULT.directBuffer();
        rowDescription(tenThousandRows);
        for (int i = 0; i < 10_000; i++) {
            dataRow(tenThousandRows, Integer.toString(i * 7));
        }
        commandComplete(tenThousandRows, "SELECT 10000");
        readyForQuery(tenThousandRows);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        selectReply.release();
        tenThousandRows.release();
        scanner.release();
    }

    @Benchmark
    public long pgbenchSelectReply() {
        scanner.scan(selectReply.duplicate());
        return forwarded;
    }

    @Benchmark
    public long tenThousandRowResult() {
        scanner.scan(tenThousandRows.duplicate());
        return forwarded;
    }

    private static void rowDescription(ByteBuf out) {
        byte[] name = "abalance".getBytes(StandardCharsets.US_ASCII);
        out.writeByte('T').writeInt(4 + 2 + name.length + 1 + 18).writeShort(1);
        out.writeBytes(name).writeByte(0).writeInt(16396).writeShort(3).writeInt(23).writeShort(4).writeInt(-1).writeShort(0);
    }

    private static void dataRow(ByteBuf out, String value) {
        byte[] v = value.getBytes(StandardCharsets.US_ASCII);
        out.writeByte('D').writeInt(4 + 2 + 4 + v.length).writeShort(1).writeInt(v.length).writeBytes(v);
    }

    private static void commandComplete(ByteBuf out, String tag) {
        byte[] t = tag.getBytes(StandardCharsets.US_ASCII);
        out.writeByte('C').writeInt(4 + t.length + 1).writeBytes(t).writeByte(0);
    }

    private static void readyForQuery(ByteBuf out) {
        out.writeByte('Z').writeInt(5).writeByte('I');
    }
}
