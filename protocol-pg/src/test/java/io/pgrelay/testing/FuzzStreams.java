package io.pgrelay.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.buffer.UnpooledHeapByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import io.pgrelay.protocol.PgProtocolException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The input layout of the fuzz targets that read a byte stream: byte 0 is the size of the
 * chunks the stream arrives in (0: all of it at once), the rest is the stream. So one input
 * file is both a captured session and the way the network cut it up, and the fuzzer explores
 * both. A stream arrives in at most {@value #MAX_CHUNKS} chunks (larger ones than byte 0 says
 * if need be), which keeps an execution cheap: short streams still arrive byte by byte.
 */
public final class FuzzStreams {
    static final int MAX_CHUNKS = 64;

    private FuzzStreams() {
    }

    /** The stream of {@code input}: everything after the chunk-size byte. */
    public static byte[] stream(byte[] input) {
        return input.length == 0 ? input : Arrays.copyOfRange(input, 1, input.length);
    }

    /** The stream of {@code input} cut into the chunks it arrives in. */
    public static List<byte[]> chunks(byte[] input) {
        byte[] stream = stream(input);
        int size = input.length == 0 || input[0] == 0 ? Math.max(1, stream.length) : input[0] & 0xff;
        size = Math.max(size, (stream.length + MAX_CHUNKS - 1) / MAX_CHUNKS);
        List<byte[]> chunks = new ArrayList<>();
        for (int from = 0; from < stream.length; from += size) {
            chunks.add(Arrays.copyOfRange(stream, from, Math.min(stream.length, from + size)));
        }
        return chunks;
    }

    /**
     * Writes {@code chunk} to the channel as a new buffer, which the caller keeps in {@code fed} to
     * check later that the pipeline released it. The buffer wraps the array: not pooled, so its count
     * stays meaningful after the release, and not tracked by the leak detector, whose paranoid
     * stack traces would cost more than the fuzzing itself; what the code under test allocates is
     * tracked as in every test. Returns the protocol error the
     * write raised, or null; any other exception is a finding and propagates.
     */
    public static PgProtocolException writeChunk(EmbeddedChannel channel, byte[] chunk, List<ByteBuf> fed) {
        ByteBuf buf = Unpooled.wrappedBuffer(chunk);
        fed.add(buf);
        try {
            channel.writeInbound(buf);
            return null;
        } catch (DecoderException e) {
            if (e.getCause() instanceof PgProtocolException protocol) {
                assertSqlState(protocol);
                return protocol;
            }
            throw e;
        } catch (PgProtocolException e) {
            assertSqlState(e);
            return e;
        }
    }

    /** A protocol error names a real SQLSTATE: five characters, digits and upper-case letters. */
    public static void assertSqlState(PgProtocolException e) {
        assertThat(e.sqlState()).as("SQLSTATE of %s", e.getMessage()).matches("[0-9A-Z]{5}");
        assertThat(e.getMessage()).as("message of %s", e.sqlState()).isNotBlank();
    }

    /** A growable heap buffer for a harness's own use, not tracked by the leak detector (see {@link #writeChunk}). */
    public static ByteBuf untrackedBuffer() {
        return new UnpooledHeapByteBuf(UnpooledByteBufAllocator.DEFAULT, 256, Integer.MAX_VALUE);
    }

    /** Every buffer fed to the pipeline was released by it. */
    public static void assertAllReleased(List<ByteBuf> fed) {
        for (int i = 0; i < fed.size(); i++) {
            assertThat(fed.get(i).refCnt()).as("reference count of input chunk %d", i).isZero();
        }
    }
}
