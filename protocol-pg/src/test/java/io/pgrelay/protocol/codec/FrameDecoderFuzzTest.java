package io.pgrelay.protocol.codec;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;
import io.pgrelay.protocol.PgProtocolException;
import io.pgrelay.testing.FuzzStreams;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fuzzes {@link FrameDecoder} with typed-message streams in both directions (the seeds are the
 * frames of captured psql, pgjdbc and pgbench sessions, client and server side) cut into chunks
 * as {@link FuzzStreams} describes. The frames that come out are exactly the stream's leading
 * whole frames, each no larger than the limit; the decoder fails at most once, only with a
 * {@link PgProtocolException}, and every buffer is released.
 */
public class FrameDecoderFuzzTest {
    /** Small enough that the fuzzer reaches the limit, large enough for the captured frames. */
    private static final int MAX_MESSAGE_SIZE = 16 * 1024;

    @FuzzTest
    void frames(byte[] input) {
        run(input);
    }

    /** One execution; also driven by {@link io.pgrelay.protocol.DecodersFuzzTest}. */
    public static void run(byte[] input) {
        EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder(MAX_MESSAGE_SIZE));
        List<ByteBuf> fed = new ArrayList<>();
        ByteArrayOutputStream framed = new ByteArrayOutputStream();
        int failures = 0;
        for (byte[] chunk : FuzzStreams.chunks(input)) {
            boolean failed = FuzzStreams.writeChunk(channel, chunk, fed) != null;
            // Frames decoded from the chunk before a violation in it still come out.
            for (ByteBuf frame; (frame = channel.readInbound()) != null; ) {
                try {
                    assertThat(failures).as("a frame after the violation").isZero();
                    assertThat(frame.readableBytes()).isBetween(5, MAX_MESSAGE_SIZE);
                    assertThat(frame.getInt(frame.readerIndex() + 1) + 1).as("declared length")
                            .isEqualTo(frame.readableBytes());
                    framed.writeBytes(ByteBufUtil.getBytes(frame));
                } finally {
                    frame.release();
                }
            }
            if (failed) {
                failures++;
            }
        }
        assertThat(failures).as("violations reported").isLessThanOrEqualTo(1);
        byte[] stream = FuzzStreams.stream(input);
        assertThat(framed.toByteArray()).as("frames are the stream's leading bytes")
                .isEqualTo(Arrays.copyOf(stream, framed.size()));
        if (failures == 0) {
            int rest = stream.length - framed.size();
            boolean wholeFrameLeft = rest >= 5 && getInt(stream, framed.size() + 1) + 1 <= rest;
            assertThat(wholeFrameLeft).as("a whole frame was held back").isFalse();
        }
        assertThat(channel.finish()).as("frames left after the channel closed").isFalse();
        FuzzStreams.assertAllReleased(fed);
    }

    private static int getInt(byte[] bytes, int at) {
        return ((bytes[at] & 0xff) << 24) | ((bytes[at + 1] & 0xff) << 16) | ((bytes[at + 2] & 0xff) << 8)
                | (bytes[at + 3] & 0xff);
    }
}
