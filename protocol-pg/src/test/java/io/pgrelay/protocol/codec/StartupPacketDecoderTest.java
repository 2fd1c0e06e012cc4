package io.pgrelay.protocol.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.pgrelay.protocol.SqlState;
import io.pgrelay.protocol.message.frontend.CancelRequest;
import io.pgrelay.protocol.message.frontend.GssEncRequest;
import io.pgrelay.protocol.message.frontend.SslRequest;
import io.pgrelay.protocol.message.frontend.StartupMessage;
import io.pgrelay.protocol.message.frontend.Terminate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static io.pgrelay.protocol.codec.CodecTesting.assertDecoderFails;
import static io.pgrelay.protocol.codec.CodecTesting.copy;
import static io.pgrelay.protocol.codec.CodecTesting.inbound;
import static io.pgrelay.protocol.codec.CodecTesting.readBytes;
import static io.pgrelay.protocol.codec.CodecTesting.writeByteByByte;
import static io.pgrelay.testing.Bytes.i32;
import static io.pgrelay.testing.Bytes.of;
import static org.assertj.core.api.Assertions.assertThat;

class StartupPacketDecoderTest {
    private static final byte[] SSL_REQUEST = of(i32(8), i32(80877103));
    private static final byte[] GSSENC_REQUEST = of(i32(8), i32(80877104));
    private static final byte[] CANCEL_REQUEST = of(i32(16), i32(80877102), i32(4242), i32(-7));
    private static final byte[] STARTUP = of(i32(32), i32(196608), "user", 0, "bob", 0, "database", 0, "shop", 0, 0);
    private static final byte[] QUERY = of('Q', i32(13), "SELECT 1", 0);

    private final StartupPacketDecoder decoder = new StartupPacketDecoder();
    private final EmbeddedChannel channel = new EmbeddedChannel(decoder);

    @AfterEach
    void releaseAll() {
        channel.finishAndReleaseAll();
    }

    @Test
    void sslRequest() {
        writeByteByByte(channel, SSL_REQUEST);
        assertThat(inbound(channel)).isSameAs(SslRequest.INSTANCE);
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void gssEncRequest() {
        writeByteByByte(channel, GSSENC_REQUEST);
        assertThat(inbound(channel)).isSameAs(GssEncRequest.INSTANCE);
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void terminateInsteadOfAStartupPacket() {
        writeByteByByte(channel, of('X', i32(4)));
        assertThat(inbound(channel)).isSameAs(Terminate.INSTANCE);
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void anXThatIsNotATerminateIsAnInvalidLength() {
        assertDecoderFails(() -> channel.writeInbound(copy(channel, of('X', i32(5), 0))), SqlState.PROTOCOL_VIOLATION)
                .hasMessageContaining("invalid length of startup packet");
    }

    @Test
    void sslRefusedThenStartup() {
        writeByteByByte(channel, SSL_REQUEST);
        assertThat(inbound(channel)).isSameAs(SslRequest.INSTANCE);
        writeByteByByte(channel, STARTUP);
        assertThat(inbound(channel)).isInstanceOf(StartupMessage.class);
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void cancelRequest() {
        writeByteByByte(channel, CANCEL_REQUEST);
        assertThat(inbound(channel)).isEqualTo(new CancelRequest(4242, -7));
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void startupMessage() {
        writeByteByByte(channel, STARTUP);
        assertThat(inbound(channel)).isEqualTo(
                new StartupMessage(StartupMessage.PROTOCOL_3_0, Map.of("user", "bob", "database", "shop")));
        assertThat(inbound(channel)).isNull();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void bytesAfterTheStartupMessageWaitForTheFrameDecoder() {
        writeByteByByte(channel, of(STARTUP, QUERY, STARTUP));
        assertThat(inbound(channel)).isInstanceOf(StartupMessage.class);
        assertThat(inbound(channel)).as("not decoded as another startup packet").isNull();

        channel.pipeline().replace(decoder, "frames", new FrameDecoder(1 << 20));
        assertThat(readBytes(channel)).isEqualTo(QUERY);
        // read as a typed frame, the second packet is type 0x00 of length 8192: incomplete
        assertThat(inbound(channel)).isNull();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void bytesInTheSameChunkAsTheStartupMessageArePassedOn() {
        channel.writeInbound(copy(channel, of(STARTUP, QUERY)));
        assertThat(inbound(channel)).isInstanceOf(StartupMessage.class);
        channel.pipeline().replace(decoder, "frames", new FrameDecoder(1 << 20));
        assertThat(readBytes(channel)).isEqualTo(QUERY);
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void bytesAfterACancelRequestAreNotDecoded() {
        channel.writeInbound(copy(channel, of(CANCEL_REQUEST, STARTUP)));
        assertThat(inbound(channel)).isInstanceOf(CancelRequest.class);
        assertThat(inbound(channel)).isNull();
    }

    @Test
    void dataRightAfterAnSslRequest() {
        assertDecoderFails(() -> channel.writeInbound(copy(channel, of(SSL_REQUEST, STARTUP))),
                SqlState.PROTOCOL_VIOLATION).hasMessage("received unencrypted data after SSL request");
        assertThat(inbound(channel)).isNull();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void dataRightAfterAGssEncRequest() {
        assertDecoderFails(() -> channel.writeInbound(copy(channel, of(GSSENC_REQUEST, 0))),
                SqlState.PROTOCOL_VIOLATION).hasMessage("received unencrypted data after GSSAPI encryption request");
    }

    @Test
    void lengthTooSmall() {
        writeByteByByte(channel, of(0, 0, 0));
        assertDecoderFails(() -> channel.writeInbound(copy(channel, of(7))), SqlState.PROTOCOL_VIOLATION)
                .hasMessage("invalid length of startup packet");
    }

    @Test
    void lengthTooLargeFailsBeforeTheBody() {
        assertDecoderFails(() -> channel.writeInbound(copy(channel, i32(10_001))), SqlState.PROTOCOL_VIOLATION)
                .hasMessage("invalid length of startup packet");
    }

    @Test
    void largestStartupPacket() {
        byte[] value = "v".repeat(10_000 - 4 - 4 - 8 - 1 - 1).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        byte[] packet = of(i32(10_000), i32(196608), "options", 0, value, 0, 0);
        assertThat(packet).hasSize(10_000);
        channel.writeInbound(copy(channel, packet));
        assertThat(((StartupMessage) channel.readInbound()).parameters().get("options")).hasSize(value.length);
    }

    @Test
    void sslRequestWithWrongLength() {
        assertDecoderFails(() -> channel.writeInbound(copy(channel, of(i32(12), i32(80877103), i32(0)))),
                SqlState.PROTOCOL_VIOLATION).hasMessage("invalid length of startup packet");
    }

    @Test
    void protocol2IsNotSupported() {
        assertDecoderFails(() -> channel.writeInbound(copy(channel, of(i32(9), i32(0x0002_0000), 0))),
                SqlState.FEATURE_NOT_SUPPORTED).hasMessage("unsupported frontend protocol 2.0: server supports 3.0 to 3.0");
    }

    @Test
    void malformedStartupMessage() {
        assertDecoderFails(() -> channel.writeInbound(copy(channel, of(i32(17), i32(196608), "user", 0, "bob", 0))),
                SqlState.PROTOCOL_VIOLATION).hasMessage("invalid startup packet layout: expected terminator as last byte");
    }

    @Test
    void httpRequestIsGarbage() {
        assertDecoderFails(() -> writeByteByByte(channel, of("GET / HTTP/1.1\r\n")), SqlState.PROTOCOL_VIOLATION)
                .hasMessage("invalid length of startup packet");
    }

    @Test
    void directTlsHandshakeIsGarbage() {
        assertDecoderFails(() -> channel.writeInbound(copy(channel, of(0x16, 0x03, 0x01, 0x02, 0x00, 0x01))),
                SqlState.PROTOCOL_VIOLATION);
    }

    @Test
    void afterAViolationInputIsDiscardedAndTheErrorNotRepeated() {
        assertDecoderFails(() -> channel.writeInbound(copy(channel, of(i32(7), STARTUP))), SqlState.PROTOCOL_VIOLATION);
        ByteBuf more = copy(channel, STARTUP);
        channel.writeInbound(more);
        assertThat(more.refCnt()).isZero();
        assertThat(inbound(channel)).isNull();
        assertThat(channel.finish()).isFalse();
    }
}
