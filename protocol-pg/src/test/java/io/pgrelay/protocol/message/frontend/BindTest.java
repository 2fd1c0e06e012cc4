package io.pgrelay.protocol.message.frontend;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.pgrelay.protocol.PgProtocolException;
import io.pgrelay.testing.Bytes;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import static io.pgrelay.protocol.message.MessageAssertions.*;
import static io.pgrelay.testing.Bytes.i16;
import static io.pgrelay.testing.Bytes.i32;
import static io.pgrelay.testing.Bytes.of;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BindTest {
    private static final byte[] FRAME = of('B', i32(32), "p1", 0, "s1", 0, i16(2), i16(0), i16(1),
            i16(2), i32(2), "42", i32(-1), i16(1), i16(1));

    private static Bind bind() {
        return new Bind("p1", "s1", new short[] {0, 1}, Arrays.asList("42".getBytes(StandardCharsets.UTF_8), null),
                new short[] {1});
    }

    @Test
    void roundTrip() {
        Bind decoded = assertRoundTrip(bind(), FRAME, Bind::decode);
        assertThat(decoded.portal()).isEqualTo("p1");
        assertThat(decoded.statement()).isEqualTo("s1");
        assertThat(decoded.parameterFormats()).containsExactly(0, 1);
        assertThat(decoded.parameters()).hasSize(2);
        assertThat(decoded.parameters().get(0)).isEqualTo("42".getBytes(StandardCharsets.UTF_8));
        assertThat(decoded.parameters().get(1)).isNull();
        assertThat(decoded.resultFormats()).containsExactly(1);
    }

    @Test
    void unnamedAndEmpty() {
        assertRoundTrip(new Bind("", "", new short[0], List.of(), new short[0]),
                of('B', i32(12), 0, 0, i16(0), i16(0), i16(0)), Bind::decode);
    }

    @Test
    void emptyValueIsNotNull() {
        Bind decoded = decode(Bind::decode, of(0, 0, i16(0), i16(1), i32(0), i16(0)));
        assertThat(decoded.parameters().get(0)).isEmpty();
    }

    @Test
    void valuesAreCompared() {
        Bind other = new Bind("p1", "s1", new short[] {0, 1}, Arrays.asList("43".getBytes(StandardCharsets.UTF_8), null),
                new short[] {1});
        assertThat(other).isNotEqualTo(bind());
    }

    @Test
    void isImmutable() {
        byte[] value = {1};
        Bind bind = new Bind("", "", new short[0], List.of(value), new short[0]);
        value[0] = 2;
        bind.parameters().get(0)[0] = 3;
        assertThat(bind.parameters().get(0)).containsExactly(1);
        assertThatThrownBy(() -> bind.parameters().add(null)).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void toStringShowsSizesNotValues() {
        assertThat(bind().toString()).contains("2 bytes", "NULL").doesNotContain("42");
    }

    @Test
    void peeksNamesWithoutMovingIndexes() {
        ByteBuf frame = Unpooled.wrappedBuffer(of('B', i32(23), "pörtal", 0, "stmt", 0, i16(0), i16(0), i16(0)));
        try {
            ByteBuf body = frame.skipBytes(5);
            assertThat(Bind.peekPortalName(body)).isEqualTo("pörtal");
            assertThat(Bind.peekStatementName(body)).isEqualTo("stmt");
            assertThat(body.readerIndex()).isEqualTo(5);
            assertThat(body.writerIndex()).isEqualTo(frame.capacity());
        } finally {
            frame.release();
        }
    }

    @Test
    void peekFailsOnMissingTerminator() {
        assertViolation(Bind::peekPortalName, of("p1")).hasMessageContaining("missing terminator");
        assertViolation(Bind::peekStatementName, of("p1", 0, "s1")).hasMessageContaining("missing terminator");
        assertViolation(Bind::peekStatementName, of("p1", 0)).hasMessageContaining("missing terminator");
    }

    @Test
    void negativeLengthOtherThanNull() {
        assertViolation(Bind::decode, of(0, 0, i16(0), i16(1), i32(-2), i16(0)))
                .hasMessage("insufficient data left in message");
    }

    @Test
    void valueLongerThanTheMessage() {
        assertViolation(Bind::decode, of(0, 0, i16(0), i16(1), i32(100), "42", i16(0)))
                .isInstanceOf(PgProtocolException.class);
    }

    @Test
    void malformed() {
        byte[] body = Bytes.from(FRAME, 5);
        assertTruncationsFail(Bind::decode, body);
        assertTrailingByteFails(Bind::decode, body);
    }
}
