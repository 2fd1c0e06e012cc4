package io.pgrelay.protocol.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;
import io.pgrelay.protocol.SqlState;
import io.pgrelay.testing.Bytes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static io.pgrelay.protocol.codec.CodecTesting.assertDecoderFails;
import static io.pgrelay.protocol.codec.CodecTesting.copy;
import static io.pgrelay.protocol.codec.CodecTesting.inbound;
import static io.pgrelay.protocol.codec.CodecTesting.readBytes;
import static io.pgrelay.protocol.codec.CodecTesting.writeByteByByte;
import static io.pgrelay.testing.Bytes.i16;
import static io.pgrelay.testing.Bytes.i32;
import static io.pgrelay.testing.Bytes.of;
import static org.assertj.core.api.Assertions.assertThat;

class FrameDecoderTest {
    private static final byte[] QUERY = of('Q', i32(13), "SELECT 1", 0);
    private static final byte[] PARSE = of('P', i32(16), 0, "SELECT 1", 0, i16(0));
    private static final byte[] SYNC = of('S', i32(4));
    private static final byte[] TERMINATE = of('X', i32(4));

    private final EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder(1024));

    @AfterEach
    void releaseAll() {
        channel.finishAndReleaseAll();
    }

    @Test
    void framesFedByteByByteArriveWholeAndInOrder() {
        writeByteByByte(channel, of(QUERY, PARSE, SYNC, TERMINATE));

        assertThat(readBytes(channel)).isEqualTo(QUERY);
        assertThat(readBytes(channel)).isEqualTo(PARSE);
        assertThat(readBytes(channel)).isEqualTo(SYNC);
        assertThat(readBytes(channel)).isEqualTo(TERMINATE);
        assertThat(inbound(channel)).isNull();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void framesInOneChunkAreSlicesOfIt() {
        ByteBuf chunk = copy(channel, of(QUERY, SYNC));
        channel.writeInbound(chunk);

        ByteBuf query = channel.readInbound();
        ByteBuf sync = channel.readInbound();
        try {
            assertThat(ByteBufUtil.getBytes(query)).isEqualTo(QUERY);
            assertThat(ByteBufUtil.getBytes(sync)).isEqualTo(SYNC);
            assertThat(query.unwrap()).isNotNull();
            assertThat(sync.unwrap()).isNotNull();
        } finally {
            query.release();
            sync.release();
        }
        assertThat(chunk.refCnt()).isZero();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void partialFrameWaitsForTheRest() {
        channel.writeInbound(copy(channel, of(SYNC, Bytes.prefix(QUERY, 7))));
        assertThat(readBytes(channel)).isEqualTo(SYNC);
        assertThat(inbound(channel)).isNull();
        channel.writeInbound(copy(channel, Bytes.from(QUERY, 7)));
        assertThat(readBytes(channel)).isEqualTo(QUERY);
        channel.writeInbound(copy(channel, Bytes.prefix(PARSE, 3)));
        // nothing is lost when the rest never comes: finish() releases the partial frame
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void lengthBelowFourIsAViolation() {
        writeByteByByte(channel, of('Q', 0, 0, 0));
        assertDecoderFails(() -> channel.writeInbound(copy(channel, of(3))), SqlState.PROTOCOL_VIOLATION)
                .hasMessageContaining("invalid message length 3");
    }

    @Test
    void negativeLengthIsAViolation() {
        assertDecoderFails(() -> channel.writeInbound(copy(channel, of('Q', i32(-1)))), SqlState.PROTOCOL_VIOLATION)
                .hasMessageContaining("invalid message length -1");
    }

    @Test
    void oversizeFailsAsSoonAsTheHeaderIsIn() {
        byte[] header = of('Q', i32(2000));
        writeByteByByte(channel, Bytes.prefix(header, 4));
        assertDecoderFails(() -> channel.writeInbound(copy(channel, Bytes.from(header, 4))), SqlState.PROTOCOL_VIOLATION)
                .hasMessageContaining("more than the limit of 1024 bytes");
    }

    @Test
    void largestAllowedFrame() {
        byte[] frame = of('d', i32(1023), new byte[1019]);
        channel.writeInbound(copy(channel, frame));
        assertThat(readBytes(channel)).isEqualTo(frame);
        assertDecoderFails(() -> channel.writeInbound(copy(channel, of('d', i32(1024)))), SqlState.PROTOCOL_VIOLATION);
    }

    @Test
    void afterAViolationFurtherInputIsDiscardedAndNotReportedAgain() {
        assertDecoderFails(() -> channel.writeInbound(copy(channel, of('Q', i32(2), SYNC))), SqlState.PROTOCOL_VIOLATION);
        ByteBuf more = copy(channel, SYNC);
        channel.writeInbound(more);
        assertThat(more.refCnt()).isZero();
        assertThat(inbound(channel)).isNull();
        assertThat(channel.finish()).isFalse();
    }
}
