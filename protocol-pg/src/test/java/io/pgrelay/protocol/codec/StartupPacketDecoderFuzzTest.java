package io.pgrelay.protocol.codec;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.pgrelay.protocol.PgProtocolException;
import io.pgrelay.protocol.message.frontend.CancelRequest;
import io.pgrelay.protocol.message.frontend.GssEncRequest;
import io.pgrelay.protocol.message.frontend.SslRequest;
import io.pgrelay.protocol.message.frontend.StartupMessage;
import io.pgrelay.protocol.message.frontend.Terminate;
import io.pgrelay.testing.FuzzStreams;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fuzzes {@link StartupPacketDecoder} with whole client streams (the seeds are the opening bytes
 * of captured psql, pgjdbc and pgbench sessions) cut into chunks as {@link FuzzStreams} describes.
 * Whatever arrives, the decoder emits only startup packets, at most one that ends the start-up,
 * fails at most once and only with a {@link PgProtocolException}, and releases every byte.
 */
public class StartupPacketDecoderFuzzTest {
    @FuzzTest
    void startupPackets(byte[] input) {
        run(input);
    }

    /** One execution; also driven by {@link io.pgrelay.protocol.DecodersFuzzTest}. */
    public static void run(byte[] input) {
        EmbeddedChannel channel = new EmbeddedChannel(new StartupPacketDecoder());
        List<ByteBuf> fed = new ArrayList<>();
        int failures = 0;
        boolean ended = false;
        for (byte[] chunk : FuzzStreams.chunks(input)) {
            PgProtocolException failure = FuzzStreams.writeChunk(channel, chunk, fed);
            if (failure != null) {
                failures++;
            }
            for (Object packet; (packet = channel.readInbound()) != null; ) {
                assertThat(ended).as("a packet after the start-up ended: %s", packet).isFalse();
                assertThat(packet).isInstanceOfAny(SslRequest.class, GssEncRequest.class, CancelRequest.class,
                        StartupMessage.class, Terminate.class);
                ended = !(packet instanceof SslRequest || packet instanceof GssEncRequest);
            }
        }
        assertThat(failures).as("violations reported").isLessThanOrEqualTo(1);
        assertThat(channel.finish()).as("messages left after the channel closed").isFalse();
        FuzzStreams.assertAllReleased(fed);
    }
}
